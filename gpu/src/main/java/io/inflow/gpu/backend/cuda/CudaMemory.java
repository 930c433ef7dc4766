package io.inflow.gpu.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.inflow.gpu.backend.TensorMemory;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.NativeMemory;
import io.inflow.gpu.tensor.Tensor;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * The memory of one {@link CudaBackend}: its stream, its bounded {@link DeviceMemoryPool} and its
 * {@link PinnedStaging} buffer. Host arrays go through the staging buffer in chunks; each chunk's copy is finished
 * (stream synchronised) before the buffer is refilled. Driver calls run on the context thread.
 *
 * <p>{@code Tensor t = memory.upload(hostFloats, rows, cols); float[] back = memory.download(t);}
 */
final class CudaMemory implements TensorMemory {
    private final CudaContext context;
    private final CUstream stream;
    private final DeviceMemoryPool pool;
    private final PinnedStaging staging;
    private boolean closed;

    CudaMemory(CudaContext context, CudaBackendConfig config) {
        this.context = context;
        Object[] parts = context.call(() -> {
            CUstream s = new CUstream();
            CudaCheck.check(cuStreamCreate(s, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate", "-", "-");
            DeviceMemoryPool p;
            try {
                p = new DeviceMemoryPool(config.poolBytes());
            } catch (RuntimeException e) {
                cuStreamDestroy(s);
                throw e;
            }
            PinnedStaging st;
            try {
                st = new PinnedStaging(config.stagingBytes());
            } catch (RuntimeException e) {
                p.close();
                cuStreamDestroy(s);
                throw e;
            }
            return new Object[] {s, p, st};
        });
        this.stream = (CUstream) parts[0];
        this.pool = (DeviceMemoryPool) parts[1];
        this.staging = (PinnedStaging) parts[2];
    }

    /** The stream all of this backend's copies and kernels are ordered on. */
    CUstream stream() {
        return stream;
    }

    /** The pool's bookkeeping (used, free, largest free block). */
    BestFitAllocator pool() {
        return pool.allocator();
    }

    @Override
    public Tensor allocate(DType dtype, int... shape) {
        if (closed) {
            throw new IllegalStateException("CUDA backend is closed");
        }
        long bytes = Tensor.count(shape) * dtype.byteSize();
        long address = pool.allocate(bytes);   // bookkeeping only: no driver call, any thread
        try {
            return Tensor.owning(address, Math.max(bytes, 1), Tensor.Location.DEVICE, () -> pool.free(address), dtype,
                    shape);
        } catch (RuntimeException e) {
            pool.free(address);
            throw e;
        }
    }

    @Override
    public Tensor upload(float[] data, int... shape) {
        Tensor t = allocate(DType.FLOAT32, shape);
        try {
            CudaChecks.length(data.length, t);
            context.run(() -> toDevice(data, null, t.address(), data.length));
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    @Override
    public Tensor upload(int[] data, int... shape) {
        Tensor t = allocate(DType.INT32, shape);
        try {
            CudaChecks.length(data.length, t);
            context.run(() -> toDevice(null, data, t.address(), data.length));
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    @Override
    public void write(Tensor dst, int[] src) {
        if (dst.location() == Tensor.Location.HOST) {
            dst.copyFrom(src);
            return;
        }
        CudaChecks.dtype("write", "dst", dst, DType.INT32);
        CudaChecks.length(src.length, dst);
        context.run(() -> toDevice(null, src, dst.address(), src.length));
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (src.dtype() != dst.dtype() || src.elementCount() != dst.elementCount()) {
            throw new IllegalArgumentException("copy from " + src + " into " + dst);
        }
        long bytes = src.elementCount() * src.dtype().byteSize();
        boolean srcDevice = src.location() == Tensor.Location.DEVICE;
        boolean dstDevice = dst.location() == Tensor.Location.DEVICE;
        if (!srcDevice && !dstDevice) {
            dst.copyFrom(src);
        } else if (srcDevice && dstDevice) {
            context.run(() -> {
                CudaCheck.check(cuMemcpyDtoDAsync(pool.pointer(dst.address(), bytes), pool.pointer(src.address(), bytes),
                        bytes, stream), "cuMemcpyDtoDAsync", "-", bytes + " bytes");
                sync("copy");
            });
        } else if (srcDevice) {
            context.run(() -> deviceToHost(src.address(), dst.address(), bytes));
        } else {
            context.run(() -> hostToDevice(src.address(), dst.address(), bytes));
        }
    }

    @Override
    public float[] download(Tensor t) {
        CudaChecks.dtype("download", "t", t, DType.FLOAT32);
        if (t.location() == Tensor.Location.HOST) {
            return t.toFloatArray();
        }
        float[] out = new float[Math.toIntExact(t.elementCount())];
        context.run(() -> toHost(t.address(), out, null, out.length));
        return out;
    }

    /** Copies an int32 tensor (device or host) to a new host array (used for the value checks of ids and lengths). */
    int[] downloadInts(Tensor t) {
        CudaChecks.dtype("download", "t", t, DType.INT32);
        if (t.location() == Tensor.Location.HOST) {
            return t.toIntArray();
        }
        int[] out = new int[Math.toIntExact(t.elementCount())];
        context.run(() -> toHost(t.address(), null, out, out.length));
        return out;
    }

    /** Waits until all work queued on the stream has finished. */
    void synchronize() {
        context.run(() -> sync("synchronize"));
    }

    // Context-thread helpers.

    private void toDevice(float[] floats, int[] ints, long deviceAddress, int count) {
        int chunk = (int) (staging.bytes() / 4);
        for (int done = 0; done < count; done += chunk) {
            int n = Math.min(chunk, count - done);
            if (floats != null) {
                NativeMemory.copyFromArray(floats, done, staging.address(), n);
            } else {
                NativeMemory.copyFromArray(ints, done, staging.address(), n);
            }
            long bytes = 4L * n;
            CudaCheck.check(cuMemcpyHtoDAsync(pool.pointer(deviceAddress + 4L * done, bytes), staging.pointer(), bytes,
                    stream), "cuMemcpyHtoDAsync", "-", bytes + " bytes");
            sync("upload");
        }
    }

    private void toHost(long deviceAddress, float[] floats, int[] ints, int count) {
        int chunk = (int) (staging.bytes() / 4);
        for (int done = 0; done < count; done += chunk) {
            int n = Math.min(chunk, count - done);
            long bytes = 4L * n;
            CudaCheck.check(cuMemcpyDtoHAsync(staging.pointer(), pool.pointer(deviceAddress + 4L * done, bytes), bytes,
                    stream), "cuMemcpyDtoHAsync", "-", bytes + " bytes");
            sync("download");
            if (floats != null) {
                NativeMemory.copyToArray(staging.address(), floats, done, n);
            } else {
                NativeMemory.copyToArray(staging.address(), ints, done, n);
            }
        }
    }

    private void hostToDevice(long hostAddress, long deviceAddress, long bytes) {
        for (long done = 0; done < bytes; done += staging.bytes()) {
            long n = Math.min(staging.bytes(), bytes - done);
            NativeMemory.copy(hostAddress + done, staging.address(), n);
            CudaCheck.check(cuMemcpyHtoDAsync(pool.pointer(deviceAddress + done, n), staging.pointer(), n, stream),
                    "cuMemcpyHtoDAsync", "-", n + " bytes");
            sync("copy to device");
        }
    }

    private void deviceToHost(long deviceAddress, long hostAddress, long bytes) {
        for (long done = 0; done < bytes; done += staging.bytes()) {
            long n = Math.min(staging.bytes(), bytes - done);
            CudaCheck.check(cuMemcpyDtoHAsync(staging.pointer(), pool.pointer(deviceAddress + done, n), n, stream),
                    "cuMemcpyDtoHAsync", "-", n + " bytes");
            sync("copy to host");
            NativeMemory.copy(staging.address(), hostAddress + done, n);
        }
    }

    private void sync(String what) {
        CudaCheck.check(cuStreamSynchronize(stream), "cuStreamSynchronize", "-", what);
    }

    /**
     * Waits for queued work, frees the staging buffer, the pool and the stream (on the context thread); then fails
     * if tensors were still open. Idempotent.
     */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        int leaked = pool.allocator().liveBlocks();
        long leakedBytes = pool.allocator().usedBytes();
        context.run(() -> {
            try {
                sync("close");
            } finally {
                try {
                    staging.close();
                } finally {
                    try {
                        pool.close();
                    } finally {
                        cuStreamDestroy(stream);
                    }
                }
            }
        });
        if (leaked > 0) {
            throw new IllegalStateException("CUDA backend closed with " + leaked + " tensor(s) still open ("
                    + leakedBytes + " bytes); their device memory is freed now and they must not be used");
        }
    }
}
