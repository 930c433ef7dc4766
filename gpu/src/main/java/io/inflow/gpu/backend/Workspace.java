package io.inflow.gpu.backend;

import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * Named scratch tensors that grow to the largest shape requested and are then reused, so a model run
 * allocates nothing once it has seen its largest batch. {@link #get} returns a view valid until the next
 * {@code get} of the same name; the workspace owns the memory and frees it on {@link #close()}.
 *
 * <p>{@code Tensor q = workspace.get("q", batch * seq, dim);}
 */
public final class Workspace implements AutoCloseable {
    private final TensorMemory memory;
    private final Map<String, Tensor> buffers = new HashMap<>();

    /** Scratch tensors allocated from {@code memory} (a backend). */
    public Workspace(TensorMemory memory) {
        this.memory = memory;
    }

    /** A float32 view of shape {@code shape} over the buffer {@code name}, grown if too small. */
    public Tensor get(String name, int... shape) {
        return get(name, DType.FLOAT32, shape);
    }

    /** A view of {@code dtype} and {@code shape} over the buffer {@code name}, grown if too small. */
    public Tensor get(String name, DType dtype, int... shape) {
        long needed = Tensor.count(shape);
        if (needed > Integer.MAX_VALUE) { // the batch-split path, not an ArithmeticException out of the forward pass
            throw new OutOfDeviceMemoryException("workspace buffer " + name, needed, needed * dtype.byteSize());
        }
        Tensor buf = buffers.get(name);
        if (buf == null || buf.dtype() != dtype || buf.elementCount() < needed) {
            if (buf != null) {
                buffers.remove(name);   // a failed allocation below must not leave a closed buffer in the map
                buf.close();
            }
            buf = memory.allocate(dtype, Math.toIntExact(Math.max(needed, 1)));
            buffers.put(name, buf);
        }
        return buf.view(0, shape);
    }

    @Override
    public void close() {
        buffers.values().forEach(Tensor::close);
        buffers.clear();
    }
}
