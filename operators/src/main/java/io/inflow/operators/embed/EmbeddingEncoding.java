package io.inflow.operators.embed;

/**
 * How an enriched event carries its embedding.
 *
 * <ul>
 *   <li>{@link #OMIT}: no embedding on the wire (consumers only want token counts, scores or retrieval results);</li>
 *   <li>{@link #FLOAT32}: a JSON array of floats, exact, about 10 bytes per value;</li>
 *   <li>{@link #FLOAT16_BASE64}: little-endian IEEE half floats in base64, about 2.7 bytes per value, relative
 *       error below 2^-11 (enough for cosine similarity).</li>
 * </ul>
 */
public enum EmbeddingEncoding {
    OMIT, FLOAT32, FLOAT16_BASE64
}
