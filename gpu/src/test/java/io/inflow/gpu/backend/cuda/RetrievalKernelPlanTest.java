package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.cuda.kernels.RetrievalKernel;
import io.inflow.gpu.retrieval.SearchRequest;
import org.junit.jupiter.api.Test;

/**
 * The GPU-free parts of CUDA retrieval: the launch plan fits the shared-memory budget for every k and dim the
 * kernels accept and keeps the buffer invariants {@code retrieval.cu} relies on, and the host packs raw bits the way
 * the kernels read them (little-endian halves, bytes, doubles and tie keys).
 */
class RetrievalKernelPlanTest {

    @Test
    void everyAcceptedKAndDimGetsAPlanInsideTheSharedMemoryLimit() {
        for (int k = 1; k <= SearchRequest.MAX_K; k = k < 64 ? k + 1 : k * 2 - 1) {
            for (int dim : new int[] {1, 3, 100, 384, 768, 1024, 2048}) {
                RetrievalKernel.Plan p = RetrievalKernel.plan(dim, Math.min(k, SearchRequest.MAX_K));
                String at = "k " + k + " dim " + dim + ": " + p;
                assertThat(Integer.bitCount(p.cap())).as(at + " cap is a power of two").isEqualTo(1);
                assertThat(p.cap() - p.kOut()).as(at + " room for a round of 32 rows after compaction")
                        .isGreaterThanOrEqualTo(32);
                assertThat(p.mergeCap() - p.k()).as(at + " room for a round of 256 candidates")
                        .isGreaterThanOrEqualTo(256);
                assertThat(p.queryTile()).isBetween(1, RetrievalKernel.MAX_QUERY_TILE);
                assertThat(p.queryTile() * (dim * 4 + p.cap() * 8) + 64).as(at + " slice shared bytes")
                        .isLessThanOrEqualTo(48 * 1024);
                assertThat(p.mergeCap() * 8 + 64).as(at + " merge shared bytes").isLessThanOrEqualTo(48 * 1024);
                assertThat(p.sliceRows()).as(at).isGreaterThanOrEqualTo(8 * p.kOut());
            }
        }
    }

    @Test
    void aDimAboveTheLimitIsRefusedNamingBoth() {
        assertThatThrownBy(() -> RetrievalKernel.plan(4096, 10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("CUDA retrieval supports dim up to 2048 (requested 4096)");
    }

    @Test
    void rawBitsArePackedLittleEndian() {
        assertThat(CudaRetrievalOps.packShorts(new short[] {0x1234, (short) 0xabcd, 0x7fff}, 3))
                .containsExactly(0xabcd1234, 0x7fff);
        assertThat(CudaRetrievalOps.packBytes(new byte[] {1, -1, 127, -127, 5}, 5))
                .containsExactly(0x817fff01, 5);
        long bits = Double.doubleToRawLongBits(1.5);
        assertThat(CudaRetrievalOps.doubleBits(new double[] {1.5})).containsExactly((int) bits, (int) (bits >>> 32));
    }
}
