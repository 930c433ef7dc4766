package io.inflow.gpu.backend.cpu.reference;

import io.inflow.gpu.retrieval.RetrievalOps;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.TokenQueries;
import io.inflow.gpu.retrieval.TokenSet;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.retrieval.VectorChunk;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The retrieval oracle (and the MaxSim oracle, {@link #maxSim}): every live, matching row scored in double precision on its stored (dequantized) values,
 * rounded to float, and fully sorted (score descending, tie key, chunk, row ascending). Plain loops, no blocking:
 * the fast and CUDA backends are checked against it.
 *
 * <p>{@code TopK top = new RetrievalReference().search(chunks, request);}
 */
public final class RetrievalReference implements RetrievalOps {

    private record Hit(float score, long tieKey, int chunk, int row) {
    }

    /** The order every backend returns: score descending, then tie key, chunk and row ascending. */
    private static final Comparator<Hit> ORDER = Comparator.comparingDouble((Hit h) -> -h.score)
            .thenComparingLong(Hit::tieKey).thenComparingInt(Hit::chunk).thenComparingInt(Hit::row);

    @Override
    public TopK search(List<VectorChunk> chunks, SearchRequest request) {
        int dim = request.dim();
        for (VectorChunk c : chunks) {
            if (c.dim() != dim) {
                throw new IllegalArgumentException("chunk of dim " + c.dim() + " searched with queries of dim " + dim);
            }
        }
        TopK out = new TopK(request.count(), request.k());
        float[] qs = request.queries();
        for (int q = 0; q < request.count(); q++) {
            double qNormSq = 0;
            for (int j = 0; j < dim; j++) {
                qNormSq += (double) qs[q * dim + j] * qs[q * dim + j];
            }
            double qNorm = Math.sqrt(qNormSq);
            int filter = request.filterCode(q);
            List<Hit> hits = new ArrayList<>();
            for (int ci = 0; ci < chunks.size(); ci++) {
                VectorChunk c = chunks.get(ci);
                for (int r = 0; r < c.count(); r++) {
                    if (!c.isLive(r) || (filter != VectorChunk.NO_FILTER_CODE && c.filterCodes()[r] != filter)) {
                        continue;
                    }
                    double dot = 0;
                    double dSq = 0;
                    for (int j = 0; j < dim; j++) {
                        double v = c.value(r, j);
                        dot += qs[q * dim + j] * v;
                        dSq += v * v;
                    }
                    float score = (float) request.metric().score(dot, qNorm, Math.sqrt(dSq));
                    hits.add(new Hit(score, c.tieKeys()[r], ci, r));
                }
            }
            hits.sort(ORDER);
            for (int i = 0; i < Math.min(request.k(), hits.size()); i++) {
                Hit h = hits.get(i);
                out.set(q, i, h.chunk, h.row, h.score);
            }
        }
        return out;
    }

    /** Every pair in double precision: per query token the max dot over the document's tokens, summed, rounded once. */
    @Override
    public float[] maxSim(TokenQueries queries, TokenSet documents, int[] pairQuery, int[] pairDoc) {
        RetrievalOps.checkMaxSim(queries, documents, pairQuery, pairDoc);
        int dim = queries.dim();
        float[] qs = queries.tokens();
        int[] qOff = queries.offsets();
        float[] out = new float[pairQuery.length];
        for (int p = 0; p < pairQuery.length; p++) {
            int q = pairQuery[p];
            int d = pairDoc[p];
            double sum = 0;
            for (int i = qOff[q]; i < qOff[q + 1]; i++) {
                double best = Double.NEGATIVE_INFINITY;
                for (int t = documents.offset(d); t < documents.offset(d + 1); t++) {
                    double dot = 0;
                    for (int j = 0; j < dim; j++) {
                        dot += (double) qs[i * dim + j] * documents.value(t, j);
                    }
                    best = Math.max(best, dot);
                }
                sum += best;
            }
            out[p] = (float) sum;
        }
        return out;
    }
}
