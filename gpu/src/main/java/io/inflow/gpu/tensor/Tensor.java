package io.inflow.gpu.tensor;

import java.util.Arrays;
import org.apache.arrow.memory.ArrowBuf;

/**
 * A dense, row-major, contiguous n-dimensional array over memory addressed by a native pointer: host memory
 * (off-heap: an Arrow buffer, a backend allocation) today, device memory once the CUDA backend exists.
 *
 * <p>A tensor either owns its memory (created by a {@link io.inflow.gpu.backend.Backend}: {@link #close()}
 * frees it) or is a view (of foreign memory such as an Arrow buffer, or of another tensor: {@link #close()}
 * does nothing and the memory's owner stays responsible). Views never copy.
 *
 * <pre>{@code
 * try (ArrowBuf buf = allocator.buffer(4L * batch * seq)) {
 *     Tensor ids = Tensor.wrap(buf, DType.INT32, batch, seq);   // no copy, buf keeps ownership
 *     float[] pooled = encoder.encode(ids, lengths);
 * }
 * }</pre>
 */
public final class Tensor implements AutoCloseable {
    /** Where the memory lives; kernels of a backend accept only their own location. */
    public enum Location { HOST, DEVICE }

    private final DType dtype;
    private final int[] shape;
    private final long elementCount;
    private final long address;
    private final long byteLength;
    private final Location location;
    private final AutoCloseable owner;
    private boolean closed;

    private Tensor(DType dtype, int[] shape, long address, long byteLength, Location location, AutoCloseable owner) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.elementCount = count(shape);
        this.address = address;
        this.byteLength = byteLength;
        this.location = location;
        this.owner = owner;
        long needed = elementCount * dtype.byteSize();
        if (needed > byteLength) {
            throw new IllegalArgumentException("tensor " + dtype + Arrays.toString(shape) + " needs " + needed
                    + " bytes but the memory holds " + byteLength);
        }
        if (address == 0 && byteLength > 0) {
            throw new IllegalArgumentException("null address for a tensor of " + byteLength + " bytes");
        }
    }

    /** A non-owning view of host memory at {@code address} holding {@code byteLength} bytes. */
    public static Tensor wrap(long address, long byteLength, DType dtype, int... shape) {
        return new Tensor(dtype, shape, address, byteLength, Location.HOST, null);
    }

    /** A non-owning view of an Arrow buffer (its memoryAddress and capacity); the buffer stays the owner. */
    public static Tensor wrap(ArrowBuf buf, DType dtype, int... shape) {
        return wrap(buf.memoryAddress(), buf.capacity(), dtype, shape);
    }

    /** A tensor that owns its memory: {@code release} is closed once, by {@link #close()}. */
    public static Tensor owning(long address, long byteLength, Location location, AutoCloseable release,
                                DType dtype, int... shape) {
        return new Tensor(dtype, shape, address, byteLength, location, release);
    }

    /** Number of elements of a shape; every dimension must be non-negative. */
    public static long count(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
        }
        return n;
    }

    public DType dtype() {
        return dtype;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}; negative {@code i} counts from the end. */
    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public long elementCount() {
        return elementCount;
    }

    public long address() {
        checkOpen();
        return address;
    }

    public long byteLength() {
        return byteLength;
    }

    public Location location() {
        return location;
    }

    /** True when {@link #close()} frees memory; false for views. */
    public boolean ownsMemory() {
        return owner != null;
    }

    /** A non-owning view of the elements {@code [elementOffset, elementOffset + count(shape))}. */
    public Tensor view(long elementOffset, int... newShape) {
        checkOpen();
        long n = count(newShape);
        if (elementOffset < 0 || elementOffset + n > elementCount) {
            throw new IllegalArgumentException("view of " + n + " elements at offset " + elementOffset
                    + " exceeds tensor " + dtype + Arrays.toString(shape));
        }
        long offsetBytes = elementOffset * dtype.byteSize();
        return new Tensor(dtype, newShape, address + offsetBytes, n * dtype.byteSize(), location, null);
    }

    /** A non-owning view with the same elements and another shape of equal element count. */
    public Tensor reshape(int... newShape) {
        if (count(newShape) != elementCount) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " ("
                    + elementCount + " elements) to " + Arrays.toString(newShape));
        }
        return view(0, newShape);
    }

    /** Row {@code i} of the first dimension, as a view with the remaining dimensions. */
    public Tensor row(int i) {
        int[] rest = Arrays.copyOfRange(shape, 1, shape.length);
        return view((long) i * count(rest), rest);
    }

    public float getFloat(long index) {
        checkHost(DType.FLOAT32, index);
        return NativeMemory.getFloat(address + 4 * index);
    }

    public void setFloat(long index, float value) {
        checkHost(DType.FLOAT32, index);
        NativeMemory.putFloat(address + 4 * index, value);
    }

    public int getInt(long index) {
        checkHost(DType.INT32, index);
        return NativeMemory.getInt(address + 4 * index);
    }

    public void setInt(long index, int value) {
        checkHost(DType.INT32, index);
        NativeMemory.putInt(address + 4 * index, value);
    }

    /** The uint8 sample at {@code index}, as 0..255. */
    public int getUnsignedByte(long index) {
        checkHost(DType.UINT8, index);
        return NativeMemory.getByte(address + index) & 0xFF;
    }

    /** Stores the low 8 bits of {@code value} (0..255) at {@code index}. */
    public void setUnsignedByte(long index, int value) {
        checkHost(DType.UINT8, index);
        NativeMemory.putByte(address + index, (byte) value);
    }

    /** Copies the whole tensor into a new byte array (host uint8 or int8 tensors only). */
    public byte[] toByteArray() {
        checkHost(dtype == DType.INT8 ? DType.INT8 : DType.UINT8, 0);
        byte[] out = new byte[Math.toIntExact(elementCount)];
        NativeMemory.copyToArray(address, out, 0, out.length);
        return out;
    }

    /** Overwrites the tensor with {@code src}, whose length must equal the element count (host uint8 or int8). */
    public void copyFrom(byte[] src) {
        checkHost(dtype == DType.INT8 ? DType.INT8 : DType.UINT8, 0);
        checkLength(src.length);
        NativeMemory.copyFromArray(src, 0, address, src.length);
    }

    /** Copies the whole tensor into a new float array (host float32 tensors only). */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(elementCount)];
        copyTo(out, 0);
        return out;
    }

    /** Copies the whole tensor into {@code dst[dstIndex..]}. */
    public void copyTo(float[] dst, int dstIndex) {
        checkHost(DType.FLOAT32, 0);
        NativeMemory.copyToArray(address, dst, dstIndex, Math.toIntExact(elementCount));
    }

    /** Copies the whole tensor into a new int array (host int32 tensors only). */
    public int[] toIntArray() {
        checkHost(DType.INT32, 0);
        int[] out = new int[Math.toIntExact(elementCount)];
        NativeMemory.copyToArray(address, out, 0, out.length);
        return out;
    }

    /** Overwrites the tensor with {@code src}, whose length must equal the element count. */
    public void copyFrom(float[] src) {
        checkHost(DType.FLOAT32, 0);
        checkLength(src.length);
        NativeMemory.copyFromArray(src, 0, address, src.length);
    }

    /** Overwrites the tensor with {@code src}, whose length must equal the element count. */
    public void copyFrom(int[] src) {
        checkHost(DType.INT32, 0);
        checkLength(src.length);
        NativeMemory.copyFromArray(src, 0, address, src.length);
    }

    /** Overwrites this tensor with another of the same dtype and element count (host only). */
    public void copyFrom(Tensor src) {
        if (src.dtype != dtype || src.elementCount != elementCount) {
            throw new IllegalArgumentException("copy from " + src + " into " + this);
        }
        checkHost(dtype, 0);
        NativeMemory.copy(src.address(), address, elementCount * dtype.byteSize());
    }

    /** Sets every byte to zero (host only). */
    public void zero() {
        checkOpen();
        NativeMemory.zero(address, elementCount * dtype.byteSize());
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (owner != null) {
            try {
                owner.close();
            } catch (Exception e) {
                throw new IllegalStateException("releasing " + this + " failed", e);
            }
        }
    }

    @Override
    public String toString() {
        return "Tensor{" + dtype + Arrays.toString(shape) + ", " + location + (owner == null ? ", view" : "")
                + (closed ? ", closed" : "") + "}";
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("tensor " + dtype + Arrays.toString(shape) + " is closed");
        }
    }

    private void checkHost(DType expected, long index) {
        checkOpen();
        if (location != Location.HOST) {
            throw new IllegalStateException("element access on a " + location + " tensor; copy it to the host first");
        }
        if (dtype != expected) {
            throw new IllegalStateException("tensor is " + dtype + ", accessed as " + expected);
        }
        if (index < 0 || (index >= elementCount && elementCount > 0) || (elementCount == 0 && index != 0)) {
            throw new IndexOutOfBoundsException("index " + index + " outside tensor " + Arrays.toString(shape));
        }
    }

    private void checkLength(int length) {
        if (length != elementCount) {
            throw new IllegalArgumentException("array of " + length + " elements for tensor "
                    + Arrays.toString(shape) + " (" + elementCount + " elements)");
        }
    }
}
