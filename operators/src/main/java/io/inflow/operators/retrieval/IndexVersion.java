package io.inflow.operators.retrieval;

import io.inflow.gpu.retrieval.VectorChunk;

import java.util.List;
import java.util.Map;

/**
 * An immutable view of an {@link IndexShard} for one batch: its chunks, the document id of every slot, the live
 * document count, the last corpus offset applied per partition and the filter codes, all as they were at
 * {@link IndexShard#pin()}.
 *
 * <p>{@code String id = version.docId(top.chunk(q, i), top.row(q, i));}
 *
 * @param chunks the chunks to search (shared with the shard until it writes them; never written afterwards)
 * @param ids per chunk, the document id of each row (null: free)
 * @param documents live documents
 * @param lastOffsets last applied corpus offset per partition
 * @param filterCodes the interned filter values
 * @param tokens per chunk, each row's stored token vectors ({@code TokenSet.encode}; null: none)
 */
public record IndexVersion(List<VectorChunk> chunks, List<String[]> ids, int documents, Map<Integer, Long> lastOffsets,
        Map<String, Integer> filterCodes, List<byte[][]> tokens) {

    /** A filter code no row has: a query whose filter value the shard has never seen matches nothing. */
    public static final int UNKNOWN_FILTER = -2;

    /** The document id at a chunk and row. */
    public String docId(int chunk, int row) {
        return ids.get(chunk)[row];
    }

    /** The stored token vectors of a chunk and row (MaxSim rerank), or null when the document has none. */
    public byte[] tokens(int chunk, int row) {
        return tokens.get(chunk)[row];
    }

    /** The code of a filter value; {@link VectorChunk#NO_FILTER_CODE} for null (no filter). */
    public int filterCode(String value) {
        if (value == null) {
            return VectorChunk.NO_FILTER_CODE;
        }
        Integer code = filterCodes.get(value);
        return code == null ? UNKNOWN_FILTER : code;
    }
}
