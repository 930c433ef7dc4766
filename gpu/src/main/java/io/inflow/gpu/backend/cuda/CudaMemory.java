package io.inflow.gpu.backend.cuda;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

import io.inflow.gpu.backend.TensorMemory;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.NativeMemory;
import io.inflow.gpu.tensor.Tensor;

/**
 * The memory of one {@link CudaBackend}: its stream, its bounded {@link DeviceMemoryPool} and its
 * host staging buffer ({@link DeviceApi#allocateStaging}: page-locked on the real driver). Host arrays go through the
 * staging buffer in chunks; each chunk's copy is finished (stream synchronised) before the buffer is refilled. The
 * copy methods are synchronised (one staging buffer per backend).
 *
 * <p>{@code Tensor t = memory.upload(hostFloats, rows, cols); float[] back = memory.download(t);}
 */
final class CudaMemory implements TensorMemory {
    private final DeviceApi api;
    private final Object stream;
    private volatile Runnable beforeStreamUse = () -> { };
    private final DeviceMemoryPool pool;
    private final DeviceApi.HostStaging staging;
    /**
     * The value range {min, max} of int32 device tensors whose values came from the host through this memory (uploads,
     * writes, host-to-device copies; kept across device copies), so ids and lengths are validated on the host when
     * they are written instead of read back from the device before each kernel (no host synchronisation inside a
     * forward pass). Weak keys: a closed, unreachable tensor drops out.
     */
    private final Map<Tensor, int[]> intRanges = Collections.synchronizedMap(new WeakHashMap<>());
    /** What runs when the tensor allocated at an address is closed ({@link #onRelease}), by that address. */
    private final Map<Long, List<Runnable>> releaseHooks = new HashMap<>();
    private boolean closed;

    CudaMemory(CudaContext context, CudaBackendConfig config) {
        this.api = context.api();
        this.stream = api.createStream();
        DeviceMemoryPool p;
        try {
            p = new DeviceMemoryPool(api, config.poolBytes());
        } catch (RuntimeException e) {
            api.destroyStream(stream);
            throw e;
        }
        try {
            this.staging = api.allocateStaging(config.stagingBytes());
        } catch (RuntimeException e) {
            p.close();
            api.destroyStream(stream);
            throw e;
        }
        this.pool = p;
    }

    /** The stream all of this backend's copies and kernels are ordered on. */
    Object stream() {
        return stream;
    }

    /**
     * Runs before every copy or wait this memory queues on the stream: the launcher issues the kernels the calling
     * thread holds back while it records a forward pass ({@link KernelLauncher#collect}), so stream order stays
     * program order.
     */
    void beforeStreamUse(Runnable hook) {
        this.beforeStreamUse = hook;
    }

    private void streamUse() {
        beforeStreamUse.run();
    }

    /** Whether {@code address} lies in this backend's pool. */
    boolean owns(long address) {
        return pool.contains(address);
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
            return Tensor.owning(address, Math.max(bytes, 1), Tensor.Location.DEVICE, () -> release(address), dtype,
                    shape);
        } catch (RuntimeException e) {
            pool.free(address);
            throw e;
        }
    }

    /**
     * Runs {@code hook} when {@code owner} (a tensor this memory allocated, not a view) is closed, after its memory
     * went back to the pool: device data derived from it (a resident 16-bit copy of a weight) is freed with it.
     */
    void onRelease(Tensor owner, Runnable hook) {
        if (!owner.ownsMemory() || owner.location() != Tensor.Location.DEVICE || !owns(owner.address())) {
            throw new IllegalArgumentException("onRelease: " + owner + " is not a tensor allocated by this backend");
        }
        synchronized (releaseHooks) {
            releaseHooks.computeIfAbsent(owner.address(), a -> new ArrayList<>()).add(hook);
        }
    }

    private void release(long address) {
        List<Runnable> hooks;
        synchronized (releaseHooks) {   // before the address can be handed out again
            hooks = releaseHooks.remove(address);
        }
        pool.free(address);
        if (hooks != null) {
            hooks.forEach(Runnable::run);
        }
    }

    @Override
    public Tensor upload(float[] data, int... shape) {
        Tensor t = allocate(DType.FLOAT32, shape);
        try {
            CudaChecks.length(data.length, t);
            toDevice(data, null, t.address(), data.length);
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
            toDevice(null, data, t.address(), data.length);
            intRanges.put(t, range(data, data.length));
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
        toDevice(null, src, dst.address(), src.length);
        intRanges.put(dst, range(src, src.length));
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
            streamUse();
            synchronized (this) {
                api.copyOnDevice(pool.checked(dst.address(), bytes), pool.checked(src.address(), bytes), bytes, stream);
                sync("copy");
            }
            int[] r = intRanges.get(src);
            if (r != null) {
                intRanges.put(dst, r);
            } else {
                intRanges.remove(dst);
            }
        } else if (srcDevice) {
            deviceToHost(src.address(), dst.address(), bytes);
        } else {
            hostToDevice(src.address(), dst.address(), bytes);
            if (dst.dtype() == DType.INT32) {
                int[] values = src.toIntArray();
                intRanges.put(dst, range(values, values.length));
            }
        }
    }

    @Override
    public float[] download(Tensor t) {
        CudaChecks.dtype("download", "t", t, DType.FLOAT32);
        if (t.location() == Tensor.Location.HOST) {
            return t.toFloatArray();
        }
        float[] out = new float[Math.toIntExact(t.elementCount())];
        toHost(t.address(), out, null, out.length);
        return out;
    }

    /** Copies an int32 tensor (device or host) to a new host array (also the value checks of ids and lengths). */
    @Override
    public int[] downloadInts(Tensor t) {
        CudaChecks.dtype("download", "t", t, DType.INT32);
        if (t.location() == Tensor.Location.HOST) {
            return t.toIntArray();
        }
        int[] out = new int[Math.toIntExact(t.elementCount())];
        toHost(t.address(), null, out, out.length);
        return out;
    }

    /**
     * {min, max} of an int32 device tensor's values when they came from the host through this memory (no device
     * read); null when unknown (then a check reads the values back).
     */
    int[] knownRange(Tensor t) {
        return intRanges.get(t);
    }

    private static int[] range(int[] v, int n) {
        int min = Integer.MAX_VALUE;
        int max = Integer.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            min = Math.min(min, v[i]);
            max = Math.max(max, v[i]);
        }
        return new int[] {min, max};
    }

    /** Waits until all work queued on the stream has finished. */
    synchronized void synchronize() {   // the stream's lock: no wait inside another thread's graph capture
        streamUse();
        sync("synchronize");
    }

    // Copies through the staging buffer (one at a time: the buffer is shared).

    private synchronized void toDevice(float[] floats, int[] ints, long deviceAddress, int count) {
        streamUse();
        int chunk = (int) (staging.bytes() / 4);
        for (int done = 0; done < count; done += chunk) {
            int n = Math.min(chunk, count - done);
            if (floats != null) {
                NativeMemory.copyFromArray(floats, done, staging.address(), n);
            } else {
                NativeMemory.copyFromArray(ints, done, staging.address(), n);
            }
            long bytes = 4L * n;
            api.copyToDevice(pool.checked(deviceAddress + 4L * done, bytes), staging, bytes, stream);
            sync("upload");
        }
    }

    private synchronized void toHost(long deviceAddress, float[] floats, int[] ints, int count) {
        streamUse();
        int chunk = (int) (staging.bytes() / 4);
        for (int done = 0; done < count; done += chunk) {
            int n = Math.min(chunk, count - done);
            long bytes = 4L * n;
            api.copyToHost(staging, pool.checked(deviceAddress + 4L * done, bytes), bytes, stream);
            sync("download");
            if (floats != null) {
                NativeMemory.copyToArray(staging.address(), floats, done, n);
            } else {
                NativeMemory.copyToArray(staging.address(), ints, done, n);
            }
        }
    }

    private synchronized void hostToDevice(long hostAddress, long deviceAddress, long bytes) {
        streamUse();
        for (long done = 0; done < bytes; done += staging.bytes()) {
            long n = Math.min(staging.bytes(), bytes - done);
            NativeMemory.copy(hostAddress + done, staging.address(), n);
            api.copyToDevice(pool.checked(deviceAddress + done, n), staging, n, stream);
            sync("copy to device");
        }
    }

    private synchronized void deviceToHost(long deviceAddress, long hostAddress, long bytes) {
        streamUse();
        for (long done = 0; done < bytes; done += staging.bytes()) {
            long n = Math.min(staging.bytes(), bytes - done);
            api.copyToHost(staging, pool.checked(deviceAddress + done, n), n, stream);
            sync("copy to host");
            NativeMemory.copy(staging.address(), hostAddress + done, n);
        }
    }

    private void sync(String what) {
        try {
            api.synchronize(stream);
        } catch (CudaException e) {
            throw new CudaException(e.result(), e.getMessage() + " (while waiting for: " + what + ")");
        }
    }

    /**
     * Waits for queued work, frees the staging buffer, the pool and the stream; then fails
     * if tensors were still open. Idempotent.
     */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        int leaked = pool.allocator().liveBlocks();
        long leakedBytes = pool.allocator().usedBytes();
        try {
            sync("close");
        } finally {
            try {
                staging.close();
            } finally {
                try {
                    pool.close();
                } finally {
                    api.destroyStream(stream);
                }
            }
        }
        if (leaked > 0) {
            throw new IllegalStateException("CUDA backend closed with " + leaked + " tensor(s) still open ("
                    + leakedBytes + " bytes); their device memory is freed now and they must not be used");
        }
    }
}
