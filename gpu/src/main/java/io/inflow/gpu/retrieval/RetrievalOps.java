package io.inflow.gpu.retrieval;

import java.util.List;

/**
 * The retrieval kernel family ({@code Family.RETRIEVAL}): exact top-k over an index held as {@link VectorChunk}s, and
 * MaxSim scores of query tokens against documents' token vectors ({@link TokenSet}) for the rerank stage.
 * Every backend returns the same hits in the same order (score descending; equal scores by tie key, then chunk, then
 * row ascending); scores agree within the storage's tolerance. Deleted rows and rows whose filter code differs from
 * the query's never appear.
 *
 * <pre>{@code
 * TopK top = backend.retrieval().search(List.of(chunk), new SearchRequest(q, 1, 384, 10, Metric.COSINE, null));
 * }</pre>
 */
public interface RetrievalOps {

    /**
     * The {@code request.k()} best rows per query over {@code chunks} (all of the request's dim).
     *
     * @throws IllegalArgumentException when a chunk's dim differs from the request's
     */
    TopK search(List<VectorChunk> chunks, SearchRequest request);

    /**
     * MaxSim late interaction (ColBERT): for each pair {@code p}, the sum over query {@code pairQuery[p]}'s tokens of
     * the largest inner product with any token of document {@code pairDoc[p]} (stored, dequantized values). Token
     * vectors are usually unit length, so each term is a cosine. Scores agree with the reference within the
     * storage's tolerance; they do not depend on the order or number of pairs.
     *
     * @return one score per pair
     * @throws IllegalArgumentException when dims differ, the pair arrays differ in length or name a missing
     *                                  query or document
     */
    float[] maxSim(TokenQueries queries, TokenSet documents, int[] pairQuery, int[] pairDoc);

    /** Checks {@link #maxSim}'s arguments; every backend calls it first. */
    static void checkMaxSim(TokenQueries queries, TokenSet documents, int[] pairQuery, int[] pairDoc) {
        if (queries.dim() != documents.dim()) {
            throw new IllegalArgumentException("maxSim: query tokens of dim " + queries.dim()
                    + " against document tokens of dim " + documents.dim());
        }
        if (pairQuery.length != pairDoc.length) {
            throw new IllegalArgumentException("maxSim: " + pairQuery.length + " pair queries but " + pairDoc.length
                    + " pair documents");
        }
        for (int p = 0; p < pairQuery.length; p++) {
            if (pairQuery[p] < 0 || pairQuery[p] >= queries.count()) {
                throw new IllegalArgumentException("maxSim: pair " + p + " names query " + pairQuery[p] + " of "
                        + queries.count());
            }
            if (pairDoc[p] < 0 || pairDoc[p] >= documents.count()) {
                throw new IllegalArgumentException("maxSim: pair " + p + " names document " + pairDoc[p] + " of "
                        + documents.count());
            }
        }
    }
}
