package io.inflow.gpu.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.RetrievalContractTest;
import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.retrieval.VectorChunk;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The retrieval contract on the fast CPU backend ({@code FastRetrieval}: float32 arithmetic, the default
 * tolerances of {@link RetrievalContractTest}), plus what only this backend can show: the result does not depend on
 * the number of threads, bit for bit.
 */
class FastCpuRetrievalContractTest extends RetrievalContractTest {
    @Override
    protected Backend create() {
        return new FastCpuBackend(null, 2);
    }

    @Test
    void theResultDoesNotDependOnTheThreadCount() {
        Random rnd = new Random(SEED + 100);
        for (Storage storage : Storage.values()) {
            List<VectorChunk> chunks = corpus(rnd, storage, 100, new int[] {3000, 3000}, new int[] {3000, 2222}, 0.05,
                    0.05, 0);
            SearchRequest r = request(rnd, 9, 100, 500, Metric.L2, null);
            TopK one;
            try (FastCpuBackend b = new FastCpuBackend(null, 1)) {
                one = b.retrieval().search(chunks, r);
            }
            for (int threads : new int[] {2, 3, 5}) {
                try (FastCpuBackend b = new FastCpuBackend(null, threads)) {
                    TopK many = b.retrieval().search(chunks, r);
                    for (int q = 0; q < r.count(); q++) {
                        assertThat(many.hits(q)).isEqualTo(one.hits(q));
                        for (int i = 0; i < one.hits(q); i++) {
                            String at = storage + " " + threads + " threads, query " + q + " hit " + i;
                            assertThat(many.chunk(q, i)).as(at).isEqualTo(one.chunk(q, i));
                            assertThat(many.row(q, i)).as(at).isEqualTo(one.row(q, i));
                            assertThat(Float.floatToIntBits(many.score(q, i))).as(at)
                                    .isEqualTo(Float.floatToIntBits(one.score(q, i)));
                        }
                    }
                }
            }
        }
    }
}
