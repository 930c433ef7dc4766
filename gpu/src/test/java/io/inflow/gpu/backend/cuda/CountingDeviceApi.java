package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link DeviceApi} that forwards to another (the emulated device) and counts kernel launches (by kernel name) and
 * host synchronisations: what a forward pass costs in launch overhead and round trips, independent of the kernels'
 * speed. {@link #close} leaves the device it wraps open.
 *
 * <pre>{@code
 * CountingDeviceApi counting = new CountingDeviceApi(EmulatedDevice.sharedOrSkip());
 * try (Backend b = counting.backend(GemmPrecision.BF16)) {
 *     ... load, then counting.reset(); encode; counting.launches(), counting.synchronizations()
 * }
 * }</pre>
 */
public final class CountingDeviceApi implements DeviceApi {
    private final DeviceApi device;
    private final Map<String, Integer> launches = new TreeMap<>();
    private int synchronizations;
    private int graphLaunches;
    private int captures;

    public CountingDeviceApi(DeviceApi device) {
        this.device = device;
    }

    /** A CUDA backend on this device, no synchronisation after launches (as in production), the given precision. */
    public Backend backend(GemmPrecision precision) {
        return CudaBackend.on(CudaContext.on(this), CudaBackendConfig.builder().poolBytes(256L << 20)
                .stagingBytes(4L << 20).syncAfterLaunch(false).gemmPrecision(precision).build());
    }

    public synchronized void reset() {
        launches.clear();
        synchronizations = 0;
        graphLaunches = 0;
        captures = 0;
    }

    /** Launches since the last {@link #reset}. */
    public synchronized int launches() {
        return launches.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Launches per kernel since the last {@link #reset}. */
    public synchronized Map<String, Integer> launchesByKernel() {
        return new TreeMap<>(launches);
    }

    /** Stream synchronisations (the host waiting for the device) since the last {@link #reset}. */
    public synchronized int synchronizations() {
        return synchronizations;
    }

    @Override
    public Info info() {
        return device.info();
    }

    @Override
    public long allocate(long bytes) {
        return device.allocate(bytes);
    }

    @Override
    public void free(long address) {
        device.free(address);
    }

    @Override
    public Object createStream() {
        return device.createStream();
    }

    @Override
    public void destroyStream(Object stream) {
        device.destroyStream(stream);
    }

    @Override
    public HostStaging allocateStaging(long bytes) {
        return device.allocateStaging(bytes);
    }

    @Override
    public void copyToDevice(long to, HostStaging from, long bytes, Object stream) {
        device.copyToDevice(to, from, bytes, stream);
    }

    @Override
    public void copyToHost(HostStaging to, long from, long bytes, Object stream) {
        device.copyToHost(to, from, bytes, stream);
    }

    @Override
    public void copyOnDevice(long to, long from, long bytes, Object stream) {
        device.copyOnDevice(to, from, bytes, stream);
    }

    @Override
    public void synchronize(Object stream) {
        synchronized (this) {
            synchronizations++;
        }
        device.synchronize(stream);
    }

    @Override
    public Object loadModule(String name, byte[] image) {
        return device.loadModule(name, image);
    }

    @Override
    public Object function(Object module, String name) {
        return device.function(module, name);
    }

    @Override
    public void allowSharedBytes(Object function, String name, int bytes) {
        device.allowSharedBytes(function, name, bytes);
    }

    /**
     * Graph launches since the last {@link #reset}. A graph's kernels count as launches once, when it is captured, not
     * at each replay.
     */
    public synchronized int graphLaunches() {
        return graphLaunches;
    }

    /** Graphs captured since the last {@link #reset}. */
    public synchronized int graphsCaptured() {
        return captures;
    }

    @Override
    public Object captureGraph(Object stream, Runnable launches) {
        synchronized (this) {
            captures++;
        }
        return device.captureGraph(stream, launches);
    }

    @Override
    public void launchGraph(Object graph, Object stream) {
        synchronized (this) {
            graphLaunches++;
        }
        device.launchGraph(graph, stream);
    }

    @Override
    public void destroyGraph(Object graph) {
        device.destroyGraph(graph);
    }

    @Override
    public void launch(Object function, String name, int gridX, int gridY, int gridZ, int block, int sharedBytes,
                       Object stream, KernelArgs args, String shapes) {
        synchronized (this) {
            launches.merge(name, 1, Integer::sum);   // also while capturing: the kernels the graph will run
        }
        device.launch(function, name, gridX, gridY, gridZ, block, sharedBytes, stream, args, shapes);
    }

    /** Leaves the wrapped device open (it is shared). */
    @Override
    public void close() {
    }
}
