package io.inflow.gpu.backend.cuda;

/**
 * The device calls the CUDA backend makes, behind one seam: memory, streams, copies through a host staging buffer,
 * modules and launches. {@link JCudaDeviceApi} is the real driver (JCuda, the device's primary context made current on
 * each calling thread); the tests' emulated device ({@code io.inflow.gpu.testing.EmulatedDevice}) runs the same
 * {@code .cu} sources compiled for the host in a child process, so the CUDA backend's Java code and the kernels'
 * logic are checked without a GPU. Device addresses are plain {@code long}s; streams, modules and functions are
 * opaque handles of the implementation. Implementations are thread-safe.
 *
 * <pre>{@code
 * DeviceApi api = JCudaDeviceApi.open(0);
 * long buf = api.allocate(1 << 20);
 * Object stream = api.createStream();
 * api.launch(api.function(api.loadModule("elementwise", image), "fill_f32"), "fill_f32", 8, 1, 1, 256, 0, stream,
 *         KernelArgs.of().ptrAddress(buf).f32(1f).i64(1 << 18));
 * api.synchronize(stream);
 * }</pre>
 */
public interface DeviceApi {

    /** What the device is. */
    record Info(String name, int computeCapability, int multiprocessors, long totalMemory, int driverVersion) {
    }

    /** A host buffer device copies go through (page-locked where the implementation can). */
    interface HostStaging extends AutoCloseable {
        /** Native address of the buffer (for {@code NativeMemory} copies). */
        long address();

        long bytes();

        @Override
        void close();
    }

    Info info();

    /** Device memory of {@code bytes}; its address. */
    long allocate(long bytes);

    void free(long address);

    Object createStream();

    void destroyStream(Object stream);

    HostStaging allocateStaging(long bytes);

    /** Queues a copy of the first {@code bytes} of {@code from} to device address {@code to}. */
    void copyToDevice(long to, HostStaging from, long bytes, Object stream);

    /** Queues a copy of {@code bytes} at device address {@code from} into the start of {@code to}. */
    void copyToHost(HostStaging to, long from, long bytes, Object stream);

    void copyOnDevice(long to, long from, long bytes, Object stream);

    /** Waits until the stream's work has finished; fails with the first error it met. */
    void synchronize(Object stream);

    /** Loads a kernel module from its fatbin image. */
    Object loadModule(String name, byte[] image);

    Object function(Object module, String name);

    /** Lets {@code function} use {@code bytes} of dynamic shared memory (above the 48 KiB default). */
    void allowSharedBytes(Object function, String name, int bytes);

    /** Queues a kernel; {@code shapes} describes the call for error messages. */
    void launch(Object function, String name, int gridX, int gridY, int gridZ, int block, int sharedBytes,
                Object stream, KernelArgs args, String shapes);

    /**
     * Records the kernels {@code launches} queues on {@code stream} (through {@link #launch}, nothing else) as a graph
     * instead of running them (stream capture), and returns it instantiated, ready for {@link #launchGraph}. The
     * pointers and values of every argument are fixed in it.
     */
    Object captureGraph(Object stream, Runnable launches);

    /** Queues a graph from {@link #captureGraph} on {@code stream}: its kernels run in their recorded order. */
    void launchGraph(Object graph, Object stream);

    void destroyGraph(Object graph);

    /** Releases the device (the last backend using it closes it). */
    void close();
}
