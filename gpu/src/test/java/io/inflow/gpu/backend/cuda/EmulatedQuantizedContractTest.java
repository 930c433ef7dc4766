package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.quant.Dyadic;
import io.inflow.gpu.quant.Int8Linear;
import io.inflow.gpu.quant.QuantizedContractTest;
import io.inflow.gpu.quant.Requant;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.EmulatedDevice;
import java.lang.ref.Reference;
import org.junit.jupiter.api.Test;

/**
 * The quantized contract on the CUDA backend over the emulated device ({@link EmulatedDevice}: {@code quant.cu}
 * compiled for the host, a block's threads as fibers, WMMA s8 tiles with exact int32 accumulation): every case of
 * {@link QuantizedContractTest}, bit for bit against the reference, including the whole quantized BERT and ViT
 * (calibrated on the emulated device too), in CI without a GPU; about a minute on 2 cores. It checks the kernels'
 * integer arithmetic, indexing, tiles and barriers and the launchers' arguments, not nvcc's code. Plus the device
 * parameter cache: one upload per parameter object.
 */
class EmulatedQuantizedContractTest extends QuantizedContractTest {
    @Override
    protected Backend create() {
        return EmulatedDevice.backendOrSkip();
    }

    @Test
    void parametersAreUploadedOncePerObject() {
        try (CudaBackend b = (CudaBackend) EmulatedDevice.backendOrSkip();
             Tensor x = b.allocate(DType.INT8, 3, 8);
             Tensor out = b.allocate(DType.INT32, 3, 5)) {
            Int8Linear w = new Int8Linear(5, 8, new byte[40], new int[5], new float[] {1, 1, 1, 1, 1}, 1f);
            Requant r = Requant.uniform(Dyadic.ONE, 5, Requant.Output.INT32);
            b.quantized().linear(x, w, r, out);
            assertThat(b.cachedQuantizedParameters()).as("the layer and its requant").isEqualTo(2);
            b.quantized().linear(x, w, r, out);
            assertThat(b.cachedQuantizedParameters()).as("the same objects again: nothing uploaded").isEqualTo(2);
            Requant other = Requant.uniform(Dyadic.ONE, 5, Requant.Output.INT32);
            b.quantized().linear(x, w, other, out);
            assertThat(b.cachedQuantizedParameters()).as("an equal requant is another object").isEqualTo(3);
            Reference.reachabilityFence(w);
            Reference.reachabilityFence(r);
            Reference.reachabilityFence(other);
        }   // closing the backend frees the copies (it fails on tensors left open)
    }
}
