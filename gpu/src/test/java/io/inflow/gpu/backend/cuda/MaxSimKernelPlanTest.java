package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.cuda.kernels.MaxSimKernel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The GPU-free parts of CUDA MaxSim: the launcher's tile constants are {@code maxsim.cu}'s and its shared memory fits
 * the default limit, the pairs' launch order groups documents without losing or repeating a pair, and 64-bit sign
 * words are packed as the kernel reads them (low int first).
 */
class MaxSimKernelPlanTest {

    @Test
    void tileConstantsMatchTheKernelSource() throws IOException {
        String cu = Files.readString(Path.of("src/main/cuda/maxsim.cu"));
        assertThat(constant(cu, "THREADS")).isEqualTo(256);
        assertThat(constant(cu, "QT")).isEqualTo(MaxSimKernel.QUERY_TILE);
        assertThat(constant(cu, "DT")).isEqualTo(MaxSimKernel.DOC_TILE);
        assertThat(constant(cu, "KC")).isEqualTo(MaxSimKernel.CHUNK);
        assertThat(MaxSimKernel.SHARED_BYTES).as("the shared memory maxsim.cu's header states").isEqualTo(16_768)
                .isLessThanOrEqualTo(KernelLauncher.DEFAULT_SHARED_LIMIT);
    }

    private static int constant(String source, String name) {
        Matcher m = Pattern.compile("constexpr int " + name + " = (\\d+);").matcher(source);
        assertThat(m.find()).as(name + " in maxsim.cu").isTrue();
        return Integer.parseInt(m.group(1));
    }

    @Test
    void pairsAreLaunchedGroupedByDocumentInTheirOrder() {
        int[] pairDoc = {3, 0, 3, 1, 0, 3};
        assertThat(MaxSimKernel.byDocument(pairDoc, 5)).containsExactly(1, 4, 3, 0, 2, 5);
        assertThat(MaxSimKernel.byDocument(new int[0], 2)).isEmpty();
    }

    @Test
    void signWordsArePackedLowIntFirst() {
        assertThat(CudaRetrievalOps.longBits(new long[] {0x0123456789abcdefL, -1L}))
                .containsExactly(0x89abcdef, 0x01234567, -1, -1);
    }
}
