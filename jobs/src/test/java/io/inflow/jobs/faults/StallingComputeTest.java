package io.inflow.jobs.faults;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextModel;
import io.inflow.operators.embed.BatchOutput;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.operators.embed.TokenizationOnlyCompute;

import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class StallingComputeTest {

    @Test
    void batchesWaitWhileTheFileExistsAndGoOnOnceItIsRemoved(@TempDir Path dir) throws Exception {
        Path gate = dir.resolve("stall");
        TextBatchCompute compute = StallingCompute.wrap(new TokenizationOnlyCompute(TextModel.ALL_MINILM_L6_V2),
                gate.toString());
        compute.open();
        try (RootAllocator allocator = new RootAllocator(); TokenBatch batch = new TokenBatch(allocator, 8, 4)) {
            batch.append(new int[] {101, 7592, 102}, false);
            // no file: straight through
            assertThat(compute.compute(batch).rows()).isEqualTo(1);

            Files.createFile(gate);
            CompletableFuture<BatchOutput> stalled = CompletableFuture.supplyAsync(() -> {
                try {
                    return compute.compute(batch);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            // 20 polls: long enough that a gate which did not hold would have returned
            Thread.sleep(20 * StallingCompute.POLL_MS);
            assertThat(stalled).as("a batch computes while the stall file exists").isNotDone();

            Files.delete(gate);
            long t0 = System.nanoTime();
            assertThat(stalled.get(5, TimeUnit.SECONDS).rows()).isEqualTo(1);
            assertThat((System.nanoTime() - t0) / 1e6).as("resumes within a few polls of the removal (ms)")
                    .isLessThan(1_000);
        }
    }

    @Test
    void unsetMeansNoGateAndDerivedComputesKeepIt() {
        TextBatchCompute plain = new TokenizationOnlyCompute(TextModel.ALL_MINILM_L6_V2);
        assertThat(StallingCompute.wrap(plain, null)).isSameAs(plain);
        assertThat(StallingCompute.wrap(plain, " ")).isSameAs(plain);
        TextBatchCompute other = new TokenizationOnlyCompute(TextModel.BGE_SMALL_EN_V15);
        assertThat(StallingCompute.map(plain, c -> other)).isSameAs(other);

        TextBatchCompute gated = StallingCompute.wrap(plain, "/tmp/x");
        TextBatchCompute derived = StallingCompute.map(gated, c -> {
            assertThat(c).isSameAs(plain); // the change sees the compute inside the gate
            return other;
        });
        assertThat(derived).isInstanceOf(StallingCompute.class);
        assertThat(derived.model().name()).isEqualTo(other.model().name());
    }
}
