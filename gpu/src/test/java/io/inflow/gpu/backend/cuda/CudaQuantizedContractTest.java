package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.quant.QuantizedContractTest;
import io.inflow.gpu.testing.CudaDevice;
import org.junit.jupiter.api.Tag;

/**
 * The quantized contract on CUDA ({@code quant.cu}: the INT8 GEMMs on the s8 tensor cores through WMMA, attention,
 * I-LayerNorm, ShiftGELU, embeddings, the float boundaries and the saturating add); skipped with the reason ("no CUDA
 * device: ...") where no driver or device is found. No tolerance: every case must equal the CPU reference bit for
 * bit, as on the emulated device ({@link EmulatedQuantizedContractTest}).
 */
@Tag("gpu")
class CudaQuantizedContractTest extends QuantizedContractTest {
    @Override
    protected Backend create() {
        return CudaDevice.backendOrSkip();
    }
}
