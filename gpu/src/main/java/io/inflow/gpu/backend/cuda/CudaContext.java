package io.inflow.gpu.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import io.inflow.gpu.resources.ProcessResources;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

/**
 * The one CUDA context of this process for a device (the device's primary context), shared by every
 * {@link CudaBackend} through a work queue: a single thread owns the context and runs all driver calls; callers
 * {@link #call submit} work and wait for it. This serialises driver calls (JCuda's per-thread current context is
 * never an issue) while kernels of different backends still overlap on the device through their own streams.
 * Also loads the kernel modules ({@code /io/inflow/gpu/kernels/<family>.fatbin}) once per context.
 *
 * <pre>{@code
 * try (ProcessResources.Lease<CudaContext> ctx = CudaContext.acquire(0)) {   // shared per device ordinal
 *     String name = ctx.get().call(ctx.get()::deviceName);
 * }                                                   // the last lease frees the context and its thread
 * }</pre>
 */
public final class CudaContext implements AutoCloseable {
    /** Lowest compute capability the kernels run on (BF16 WMMA); the fatbins hold sm_80 and sm_90 code. */
    static final int MIN_COMPUTE_CAPABILITY = 80;
    static final String KERNEL_RESOURCES = "/io/inflow/gpu/kernels/";

    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final ExecutorService executor;
    private final Thread thread;
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final String deviceName;
    private final int computeCapability;
    private final int multiprocessors;
    private final long totalMemory;

    /** The registry key of a device's context ({@link ProcessResources}). */
    private record Device(int ordinal) {
        @Override
        public String toString() {
            return "CUDA context of device " + ordinal;
        }
    }

    private CudaContext(int ordinal) {
        this.ordinal = ordinal;
        Thread[] owner = new Thread[1];
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "inflow-cuda-context-" + ordinal);
            t.setDaemon(true);
            owner[0] = t;
            return t;
        });
        try {
            int[] info = submit(() -> {
                CudaCheck.check(cuDeviceGet(device, ordinal), "cuDeviceGet", "-", "device " + ordinal);
                CudaCheck.check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain", "-",
                        "device " + ordinal);
                CudaCheck.check(cuCtxSetCurrent(context), "cuCtxSetCurrent", "-", "device " + ordinal);
                int[] major = {0};
                int[] minor = {0};
                int[] sms = {0};
                cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
                cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
                cuDeviceGetAttribute(sms, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
                return new int[] {major[0] * 10 + minor[0], sms[0]};
            });
            this.thread = owner[0];
            this.computeCapability = info[0];
            this.multiprocessors = info[1];
            this.deviceName = submit(() -> {
                byte[] name = new byte[256];
                cuDeviceGetName(name, name.length, device);
                int n = 0;
                while (n < name.length && name[n] != 0) {
                    n++;
                }
                return new String(name, 0, n, StandardCharsets.US_ASCII);
            });
            this.totalMemory = submit(() -> {
                long[] bytes = {0};
                cuDeviceTotalMem(bytes, device);
                return bytes[0];
            });
        } catch (RuntimeException e) {
            executor.shutdownNow();
            throw e;
        }
    }

    /**
     * A lease on the process's context of device {@code ordinal} ({@link ProcessResources}), created on first use;
     * the last lease closed frees it.
     */
    public static ProcessResources.Lease<CudaContext> acquire(int ordinal) {
        CudaAvailability.Result probe = CudaAvailability.probe();
        if (!probe.available()) {
            throw new CudaUnavailableException(probe.reason());
        }
        if (ordinal < 0 || ordinal >= probe.deviceCount()) {
            throw new CudaUnavailableException("CUDA device " + ordinal + " does not exist (" + probe.deviceCount()
                    + " device(s) found); set inflow.cuda.device to a value in [0, " + probe.deviceCount() + ")");
        }
        try {
            return ProcessResources.acquire(new Device(ordinal), () -> {
                CudaContext ctx = new CudaContext(ordinal);
                if (ctx.computeCapability < MIN_COMPUTE_CAPABILITY) {
                    ctx.destroy();
                    throw new CudaUnavailableException("CUDA device " + ordinal + " (" + ctx.deviceName
                            + ") has compute capability " + ctx.computeCapability / 10 + "." + ctx.computeCapability % 10
                            + "; the kernels need 8.0 or newer (BF16 tensor cores). Use inflow.compute.backend=CPU");
                }
                return ctx;
            });
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new CudaUnavailableException("cannot create the CUDA context of device " + ordinal + ": " + e);
        }
    }

    /** Unloads the modules, releases the primary context and stops the thread (the last lease calls it). */
    @Override
    public void close() {
        destroy();
    }

    private void destroy() {
        try {
            submit(() -> {
                for (CUmodule m : modules.values()) {
                    cuModuleUnload(m);
                }
                modules.clear();
                functions.clear();
                cuDevicePrimaryCtxRelease(device);
                return null;
            });
        } finally {
            executor.shutdown();
        }
    }

    /** Runs {@code work} on the context thread and returns its result (directly when already on that thread). */
    public <T> T call(Callable<T> work) {
        return submit(work);
    }

    /** As {@link #call}, without a result. */
    public void run(Runnable work) {
        submit(() -> {
            work.run();
            return null;
        });
    }

    private <T> T submit(Callable<T> work) {
        if (Thread.currentThread() == thread) {
            try {
                return work.call();
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        Future<T> f = executor.submit(work);
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the CUDA context thread", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(c);
        }
    }

    /** The kernel {@code function} of module {@code module} ({@code <module>.fatbin}); context thread only. */
    CUfunction function(String module, String function) {
        checkThread();
        String key = module + "/" + function;
        CUfunction f = functions.get(key);
        if (f == null) {
            CUmodule m = modules.computeIfAbsent(module, this::load);
            f = new CUfunction();
            CudaCheck.check(cuModuleGetFunction(f, m, function), "cuModuleGetFunction", function, module + ".fatbin");
            functions.put(key, f);
        }
        return f;
    }

    private CUmodule load(String module) {
        String resource = KERNEL_RESOURCES + module + ".fatbin";
        byte[] image;
        try (InputStream in = CudaContext.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("kernel module " + resource + " is not on the classpath; rebuild with"
                        + " gpu/src/main/cuda/build-kernels.sh");
            }
            image = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read kernel module " + resource, e);
        }
        CUmodule m = new CUmodule();
        CudaCheck.check(cuModuleLoadData(m, image), "cuModuleLoadData", module + ".fatbin",
                image.length + " bytes, device " + deviceName + " (compute " + computeCapability / 10 + "."
                        + computeCapability % 10 + ")");
        return m;
    }

    void checkThread() {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("CUDA driver call outside the context thread " + thread.getName());
        }
    }

    public int ordinal() {
        return ordinal;
    }

    public String deviceName() {
        return deviceName;
    }

    /** Compute capability as major * 10 + minor (90 for H100). */
    public int computeCapability() {
        return computeCapability;
    }

    public int multiprocessors() {
        return multiprocessors;
    }

    public long totalMemory() {
        return totalMemory;
    }
}
