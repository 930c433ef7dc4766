package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Backend choice without a device (AUTO falls back, CUDA fails saying what to change) and error messages. */
class CudaSelectionTest {
    @Test
    void withoutADeviceCudaFailsNamingTheSettingAndAutoUsesTheCpu() {
        CudaAvailability.Result probe = CudaAvailability.probe();
        Assumptions.assumeFalse(probe.available(), "a CUDA device is present: " + probe.reason());
        assertThatThrownBy(() -> Backends.create(BackendKind.CUDA, 1))
                .isInstanceOf(CudaUnavailableException.class)
                .hasMessageStartingWith("inflow.compute.backend=CUDA but ")
                .hasMessageContaining(probe.reason())
                .hasMessageContaining("inflow.compute.backend=CPU");
        try (Backend auto = Backends.create(BackendKind.AUTO, 1)) {
            assertThat(auto.kind()).isEqualTo(BackendKind.CPU);
        }
    }

    @Test
    void aMissingDriverLibraryIsReportedInOneLine() {
        CudaAvailability.Result probe = CudaAvailability.probe();
        Assumptions.assumeFalse(probe.available(), "a CUDA device is present");
        assertThat(probe.reason()).doesNotContain("\n");
        assertThat(probe.reason()).containsAnyOf("no CUDA driver (libcuda.so.1) was found", "no CUDA device",
                "no usable CUDA driver");
    }

    @Test
    void errorsNameTheCallTheKernelAndTheShapes() {
        assertThatThrownBy(() -> CudaCheck.check(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, "cuLaunchKernel", "gemm_bf16_f32",
                "M=256 N=384 K=384 B^T BIAS"))
                .isInstanceOf(CudaException.class)
                .hasMessageStartingWith("cuLaunchKernel failed with CUDA_ERROR_ILLEGAL_ADDRESS (700)")
                .hasMessageContaining("kernel gemm_bf16_f32")
                .hasMessageContaining("shapes M=256 N=384 K=384")
                .hasMessageContaining("inflow.cuda.sync-after-launch=true");
        CudaCheck.check(CUresult.CUDA_SUCCESS, "cuInit", "-", "-");
    }

    @Test
    void attentionSharedMemoryMatchesTheKernelLayout() {
        // Qs 16*hd + Ks 32*(hd+1) + Vs 32*hd + P 16*32 + O 16*hd + M, L, Corr 3*16 floats
        assertThat(io.inflow.gpu.backend.cuda.kernels.AttentionKernel.sharedBytes(32)).isEqualTo(4 * 3664);
        assertThat(io.inflow.gpu.backend.cuda.kernels.AttentionKernel.sharedBytes(128)).isEqualTo(51_520);
    }
}
