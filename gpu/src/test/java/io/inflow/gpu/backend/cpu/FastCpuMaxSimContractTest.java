package io.inflow.gpu.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.MaxSimContractTest;
import io.inflow.gpu.retrieval.TokenQueries;
import io.inflow.gpu.retrieval.TokenSet;
import io.inflow.gpu.retrieval.TokenStorage;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The MaxSim contract on the fast CPU backend ({@code FastMaxSim}: float32 FMA chains, the contract's float32
 * tolerance), plus what only this backend can show: the scores do not depend on the number of kernel threads, bit for
 * bit.
 */
class FastCpuMaxSimContractTest extends MaxSimContractTest {
    @Override
    protected Backend create() {
        return new FastCpuBackend(null, 2);
    }

    @Test
    void theScoresDoNotDependOnTheThreadCount() {
        Random rnd = new Random(SEED + 100);
        for (TokenStorage storage : TokenStorage.values()) {
            int[] qTokens = new int[30];
            for (int q = 0; q < qTokens.length; q++) {
                qTokens[q] = 1 + rnd.nextInt(32);
            }
            int[] dTokens = new int[50];
            for (int d = 0; d < dTokens.length; d++) {
                dTokens[d] = 1 + rnd.nextInt(128);
            }
            TokenQueries queries = queries(rnd, 100, qTokens, true);
            TokenSet docs = documents(rnd, storage, 100, dTokens);
            int[][] pairs = randomPairs(rnd, 400, queries.count(), docs.count());   // ~50M FMAs: split over threads
            float[] one;
            try (FastCpuBackend b = new FastCpuBackend(null, 1)) {
                one = b.retrieval().maxSim(queries, docs, pairs[0], pairs[1]);
            }
            for (int threads : new int[] {2, 4}) {
                try (FastCpuBackend b = new FastCpuBackend(null, threads)) {
                    float[] many = b.retrieval().maxSim(queries, docs, pairs[0], pairs[1]);
                    for (int p = 0; p < one.length; p++) {
                        assertThat(Float.floatToIntBits(many[p])).as(storage + " " + threads + " threads, pair " + p)
                                .isEqualTo(Float.floatToIntBits(one[p]));
                    }
                }
            }
            assertMatches(queries, docs, pairs[0], pairs[1], one, storage + " 1 thread");
        }
    }
}
