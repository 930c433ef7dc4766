package io.inflow.gpu.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphExecDestroy;
import static jcuda.driver.JCudaDriver.cuGraphInstantiate;
import static jcuda.driver.JCudaDriver.cuGraphLaunch;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuPointerGetAttribute;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUresult;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUpointer_attribute;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * The real device: JCuda's driver API on the device's primary context, made current on each calling thread the first
 * time it calls (no thread of its own: a caller waiting on its stream blocks only itself). Device addresses map back
 * to driver pointers through the allocations made here.
 *
 * <p>{@code DeviceApi api = JCudaDeviceApi.open(0);} (after {@link CudaAvailability#probe()} said a device exists)
 */
final class JCudaDeviceApi implements DeviceApi {
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final Info info;
    /** Allocations by base address, to turn an address back into a driver pointer. */
    private final Map<Long, CUdeviceptr> allocations = new ConcurrentSkipListMap<>();
    private final List<CUmodule> modules = new ArrayList<>();
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);

    private JCudaDeviceApi(int ordinal, int driverVersion) {
        CudaCheck.check(cuDeviceGet(device, ordinal), "cuDeviceGet", "-", "device " + ordinal);
        CudaCheck.check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain", "-",
                "device " + ordinal);
        makeCurrent();
        int[] major = {0};
        int[] minor = {0};
        int[] sms = {0};
        cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
        cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
        cuDeviceGetAttribute(sms, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        int n = 0;
        while (n < name.length && name[n] != 0) {
            n++;
        }
        long[] total = {0};
        cuDeviceTotalMem(total, device);
        this.info = new Info(new String(name, 0, n, StandardCharsets.US_ASCII), major[0] * 10 + minor[0], sms[0],
                total[0], driverVersion);
    }

    static JCudaDeviceApi open(int ordinal, int driverVersion) {
        return new JCudaDeviceApi(ordinal, driverVersion);
    }

    /** Makes the primary context current on the calling thread (once per thread). */
    private void makeCurrent() {
        if (!current.get()) {
            CudaCheck.check(cuCtxSetCurrent(context), "cuCtxSetCurrent", "-", "thread "
                    + Thread.currentThread().getName());
            current.set(true);
        }
    }

    @Override
    public Info info() {
        return info;
    }

    @Override
    public long allocate(long bytes) {
        makeCurrent();
        CUdeviceptr p = new CUdeviceptr();
        CudaCheck.check(cuMemAlloc(p, bytes), "cuMemAlloc", "-", bytes + " bytes");
        long[] address = {0};
        int rc = cuPointerGetAttribute(Pointer.to(address), CUpointer_attribute.CU_POINTER_ATTRIBUTE_DEVICE_POINTER, p);
        if (rc != 0) {
            cuMemFree(p);
            CudaCheck.check(rc, "cuPointerGetAttribute(DEVICE_POINTER)", "-", "new allocation");
        }
        allocations.put(address[0], p);
        return address[0];
    }

    @Override
    public void free(long address) {
        makeCurrent();
        CUdeviceptr p = allocations.remove(address);
        if (p == null) {
            throw new IllegalArgumentException("0x" + Long.toHexString(address) + " is not an allocation's start");
        }
        CudaCheck.check(cuMemFree(p), "cuMemFree", "-", "0x" + Long.toHexString(address));
    }

    /** The driver pointer of a device address inside one of the allocations. */
    private CUdeviceptr pointer(long address) {
        Map.Entry<Long, CUdeviceptr> e = ((ConcurrentSkipListMap<Long, CUdeviceptr>) allocations).floorEntry(address);
        if (e == null) {
            throw new IllegalArgumentException("device address 0x" + Long.toHexString(address)
                    + " is in no allocation of this device");
        }
        return e.getValue().withByteOffset(address - e.getKey());
    }

    @Override
    public Object createStream() {
        makeCurrent();
        CUstream s = new CUstream();
        CudaCheck.check(cuStreamCreate(s, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate", "-", "-");
        return s;
    }

    @Override
    public void destroyStream(Object stream) {
        makeCurrent();
        cuStreamDestroy((CUstream) stream);
    }

    @Override
    public HostStaging allocateStaging(long bytes) {
        makeCurrent();
        return new PinnedStaging(bytes);
    }

    @Override
    public void copyToDevice(long to, HostStaging from, long bytes, Object stream) {
        makeCurrent();
        CudaCheck.check(cuMemcpyHtoDAsync(pointer(to), ((PinnedStaging) from).pointer(), bytes, (CUstream) stream),
                "cuMemcpyHtoDAsync", "-", bytes + " bytes");
    }

    @Override
    public void copyToHost(HostStaging to, long from, long bytes, Object stream) {
        makeCurrent();
        CudaCheck.check(cuMemcpyDtoHAsync(((PinnedStaging) to).pointer(), pointer(from), bytes, (CUstream) stream),
                "cuMemcpyDtoHAsync", "-", bytes + " bytes");
    }

    @Override
    public void copyOnDevice(long to, long from, long bytes, Object stream) {
        makeCurrent();
        CudaCheck.check(cuMemcpyDtoDAsync(pointer(to), pointer(from), bytes, (CUstream) stream), "cuMemcpyDtoDAsync",
                "-", bytes + " bytes");
    }

    @Override
    public void synchronize(Object stream) {
        makeCurrent();
        CudaCheck.check(cuStreamSynchronize((CUstream) stream), "cuStreamSynchronize", "-", "-");
    }

    @Override
    public Object loadModule(String name, byte[] image) {
        makeCurrent();
        CUmodule m = new CUmodule();
        CudaCheck.check(cuModuleLoadData(m, image), "cuModuleLoadData", name + ".fatbin", image.length
                + " bytes, device " + info.name() + " (compute " + info.computeCapability() / 10 + "."
                + info.computeCapability() % 10 + ", driver API " + info.driverVersion() + ")");
        synchronized (modules) {
            modules.add(m);
        }
        return m;
    }

    @Override
    public Object function(Object module, String name) {
        makeCurrent();
        CUfunction f = new CUfunction();
        CudaCheck.check(cuModuleGetFunction(f, (CUmodule) module, name), "cuModuleGetFunction", name, "-");
        return f;
    }

    @Override
    public void allowSharedBytes(Object function, String name, int bytes) {
        makeCurrent();
        CudaCheck.check(cuFuncSetAttribute((CUfunction) function,
                CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
                "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES=" + bytes + ")", name, "-");
    }

    @Override
    public void launch(Object function, String name, int gridX, int gridY, int gridZ, int block, int sharedBytes,
                       Object stream, KernelArgs args, String shapes) {
        makeCurrent();
        CudaCheck.check(cuLaunchKernel((CUfunction) function, gridX, gridY, gridZ, block, 1, 1, sharedBytes,
                (CUstream) stream, args.toKernelParams(), null), "cuLaunchKernel", name, shapes);
    }

    /**
     * {@code cuStreamBeginCapture} in thread-local mode (another thread's unrelated CUDA calls do not break the
     * capture), the launches, {@code cuStreamEndCapture}, {@code cuGraphInstantiate}; the graph template is destroyed
     * once instantiated.
     */
    @Override
    public Object captureGraph(Object stream, Runnable launches) {
        makeCurrent();
        CUstream s = (CUstream) stream;
        CudaCheck.check(cuStreamBeginCapture(s, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                "cuStreamBeginCapture", "graph", "-");
        CUgraph graph = new CUgraph();
        try {
            launches.run();
        } finally {
            int ended = cuStreamEndCapture(s, graph);
            if (ended != CUresult.CUDA_SUCCESS) {
                CudaCheck.check(ended, "cuStreamEndCapture", "graph", "-");
            }
        }
        try {
            CUgraphExec exec = new CUgraphExec();
            CudaCheck.check(cuGraphInstantiate(exec, graph, 0), "cuGraphInstantiate", "graph", "-");
            return exec;
        } finally {
            cuGraphDestroy(graph);
        }
    }

    @Override
    public void launchGraph(Object graph, Object stream) {
        makeCurrent();
        CudaCheck.check(cuGraphLaunch((CUgraphExec) graph, (CUstream) stream), "cuGraphLaunch", "graph", "-");
    }

    @Override
    public void destroyGraph(Object graph) {
        makeCurrent();
        cuGraphExecDestroy((CUgraphExec) graph);
    }

    @Override
    public void close() {
        makeCurrent();
        synchronized (modules) {
            for (CUmodule m : modules) {
                cuModuleUnload(m);
            }
            modules.clear();
        }
        cuDevicePrimaryCtxRelease(device);
    }
}
