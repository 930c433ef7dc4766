package io.inflow.gpu.backend;

import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

/**
 * The memory every backend has, whatever kernel families it offers: allocation goes through the backend so a CUDA
 * backend can hand out device memory, and copies between host arrays and backend memory. Tensors are row-major and
 * contiguous.
 *
 * <pre>{@code
 * try (Tensor x = memory.upload(new float[] {1, 2, 3, 4}, 2, 2);
 *      Tensor y = memory.allocate(DType.FLOAT32, 2, 2)) {
 *     memory.copy(x, y);
 *     float[] back = memory.download(y);     // {1, 2, 3, 4}
 * }
 * }</pre>
 */
public interface TensorMemory {

    /** Allocates an owned tensor (contents undefined); close it, or close the backend, to free it. */
    Tensor allocate(DType dtype, int... shape);

    /** Allocates a float32 tensor and copies {@code data} (host to backend memory) into it. */
    Tensor upload(float[] data, int... shape);

    /** Allocates an int32 tensor and copies {@code data} into it. */
    Tensor upload(int[] data, int... shape);

    /** Copies a float32 tensor (backend memory) into a new host array. */
    float[] download(Tensor t);

    /**
     * Copies an int32 tensor (backend or host memory) into a new host array. The default reads host tensors (the CPU
     * backends'); a device backend copies device to host.
     */
    default int[] downloadInts(Tensor t) {
        return t.toIntArray();
    }

    /**
     * Overwrites {@code dst} (backend memory, int32) with {@code src}, whose length must equal its element count.
     * The CPU backends write in place; the CUDA backend copies host to device.
     */
    void write(Tensor dst, int[] src);

    /** Copies {@code src} into {@code dst} (backend or host memory, same dtype and element count). */
    void copy(Tensor src, Tensor dst);
}
