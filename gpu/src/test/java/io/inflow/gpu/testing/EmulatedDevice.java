package io.inflow.gpu.testing;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.cuda.CudaBackend;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.backend.cuda.CudaContext;
import io.inflow.gpu.backend.cuda.CudaException;
import io.inflow.gpu.backend.cuda.DeviceApi;
import io.inflow.gpu.backend.cuda.KernelArgs;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Assumptions;

/**
 * An emulated CUDA device: the project's {@code .cu} sources compiled for the host ({@code
 * src/test/cuda-emulation/device}: a block's threads as cooperative fibers on one host thread, {@code __syncthreads}
 * as a barrier, warp shuffles, WMMA tiles) in a child process, driven through {@link DeviceApi} over its stdin / stdout. The CUDA
 * backend's Java code runs unchanged on it, so the {@code Cuda*} contract suites run in CI without a GPU. It checks
 * the kernels' indexing, layouts, barriers and the launchers' argument lists (the emulator compares each launch with
 * the kernel's C signature), not nvcc's code, real memory ordering between blocks (blocks run one after another) or
 * speed.
 *
 * <pre>{@code
 * try (Backend gpu = EmulatedDevice.backendOrSkip()) {   // skipped with the reason where g++ is missing
 *     gpu.transformer().linear(x, w, b, y);
 * }
 * }</pre>
 */
public final class EmulatedDevice implements DeviceApi, AutoCloseable {
    /** Streams under capture and the launches recorded on each (guarded by this). */
    private final Map<Object, List<Runnable>> capturing = new IdentityHashMap<>();
    private static final Path DEVICE_SOURCES = Path.of("src/test/cuda-emulation/device");
    private static final Path BUILD = Path.of("target/cuda-emulator");
    /** Device memory of each emulated backend's pool (the emulator allocates it with malloc). */
    public static final long POOL_BYTES = 256L << 20;

    private static EmulatedDevice shared;
    private static String unavailable;

    private final Process process;
    private final OutputStream out;
    private final InputStream in;
    private final BufferAllocator allocator = new RootAllocator();
    private boolean closed;

    private EmulatedDevice(Path binary) throws IOException {
        this.process = new ProcessBuilder(binary.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        this.out = new BufferedOutputStream(process.getOutputStream(), 1 << 16);
        this.in = new BufferedInputStream(process.getInputStream(), 1 << 16);
    }

    /**
     * A CUDA backend on the process's emulated device (built once per build from the sources: {@code g++}), or the
     * calling test skipped with the reason.
     */
    public static Backend backendOrSkip() {
        return backendOrSkip(io.inflow.gpu.backend.cuda.GemmPrecision.BF16);
    }

    /** As {@link #backendOrSkip()}, with the GEMM rounding its inputs to {@code precision}. */
    public static Backend backendOrSkip(io.inflow.gpu.backend.cuda.GemmPrecision precision) {
        EmulatedDevice d = sharedOrSkip();
        CudaBackendConfig config = CudaBackendConfig.builder().poolBytes(POOL_BYTES).stagingBytes(4L << 20)
                .syncAfterLaunch(true).gemmPrecision(precision).build();
        return CudaBackend.on(d.context(), config);
    }

    private CudaContext context;

    private synchronized CudaContext context() {
        if (context == null) {
            context = CudaContext.on(this);
        }
        return context;
    }

    /** The process's emulated device (started on first use), or the calling test skipped with the reason. */
    public static synchronized EmulatedDevice sharedOrSkip() {
        if (shared == null && unavailable == null) {
            try {
                shared = new EmulatedDevice(build(BUILD, null));
                Runtime.getRuntime().addShutdownHook(new Thread(shared::close, "emulated-device-stop"));
            } catch (IOException | RuntimeException e) {
                unavailable = e.getMessage();
            }
        }
        Assumptions.assumeTrue(shared != null, () -> "no emulated CUDA device: " + unavailable);
        return shared;
    }

    /**
     * Builds the emulator from {@code sources} (null: {@code src/main/cuda}) into {@code dir} with the project's
     * {@code build.sh}; returns the binary. Rebuilt only when a source is newer than the binary.
     */
    public static Path build(Path dir, Path sources) throws IOException {
        Path script = DEVICE_SOURCES.resolve("build.sh").toAbsolutePath();
        List<String> cmd = new ArrayList<>(List.of("bash", script.toString(), dir.toAbsolutePath().toString()));
        if (sources != null) {
            cmd.add(sources.toAbsolutePath().toString());
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(15, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IOException("building the CUDA emulator failed (" + String.join(" ", cmd) + "):\n" + log);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while building the CUDA emulator", e);
        }
        String[] lines = log.strip().split("\n");
        Path binary = Path.of(lines[lines.length - 1].strip());
        if (!Files.isExecutable(binary)) {
            throw new IOException("the CUDA emulator build did not end with the binary's path:\n" + log);
        }
        return binary;
    }

    /** Starts an emulator from a binary built by {@link #build} (a mutated build in the negative controls). */
    public static EmulatedDevice start(Path binary) throws IOException {
        return new EmulatedDevice(binary);
    }

    // ---- protocol (little-endian; see src/test/cuda-emulation/device/README.md) --------------------------------

    private static final int ALLOC = 1;
    private static final int FREE = 2;
    private static final int HTOD = 3;
    private static final int DTOH = 4;
    private static final int DTOD = 5;
    private static final int LAUNCH = 7;
    private static final int QUIT = 9;

    private ByteBuffer request(int opcode, int extra) {
        ByteBuffer b = ByteBuffer.allocate(1 + extra).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) opcode);
        return b;
    }

    private void send(ByteBuffer b) throws IOException {
        out.write(b.array(), 0, b.position());
    }

    private void readFully(byte[] dst, int off, int len) throws IOException {
        int n = 0;
        while (n < len) {
            int r = in.read(dst, off + n, len - n);
            if (r < 0) {
                throw new IOException("the CUDA emulator exited (exit code " + exitCode() + ")");
            }
            n += r;
        }
    }

    private String exitCode() {
        try {
            return process.waitFor(5, TimeUnit.SECONDS) ? String.valueOf(process.exitValue()) : "still running";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    private ByteBuffer read(int bytes) throws IOException {
        byte[] b = new byte[bytes];
        readFully(b, 0, bytes);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Flushes, reads the status byte; an error becomes a {@link CudaException} naming {@code what}. */
    private void status(String what) throws IOException {
        out.flush();
        int s = read(1).get();
        if (s != 0) {
            int len = read(4).getInt();
            String msg = new String(read(len).array(), StandardCharsets.UTF_8);
            throw new CudaException(999, "emulated device: " + what + ": " + msg);
        }
    }

    private static RuntimeException broken(String what, IOException e) {
        return new IllegalStateException("emulated device: " + what + ": " + e.getMessage(), e);
    }

    @Override
    public Info info() {
        return new Info("emulated CUDA device (host fibers)", 90, 1, 16L << 30, 13000);
    }

    @Override
    public synchronized long allocate(long bytes) {
        try {
            send(request(ALLOC, 8).putLong(bytes));
            status("allocate " + bytes + " bytes");
            return read(8).getLong();
        } catch (IOException e) {
            throw broken("allocate", e);
        }
    }

    @Override
    public synchronized void free(long address) {
        try {
            send(request(FREE, 8).putLong(address));
            status("free");
        } catch (IOException e) {
            throw broken("free", e);
        }
    }

    @Override
    public Object createStream() {
        return new Object();   // launches and copies run in order, synchronously
    }

    @Override
    public void destroyStream(Object stream) {
    }

    /** Host staging: a plain off-heap buffer. */
    private final class Staging implements HostStaging {
        final ArrowBuf buf;
        final long bytes;

        Staging(long bytes) {
            this.bytes = bytes;
            this.buf = allocator.buffer(bytes);
        }

        @Override
        public long address() {
            return buf.memoryAddress();
        }

        @Override
        public long bytes() {
            return bytes;
        }

        @Override
        public void close() {
            buf.close();
        }
    }

    @Override
    public synchronized HostStaging allocateStaging(long bytes) {
        return new Staging(bytes);
    }

    @Override
    public synchronized void copyToDevice(long to, HostStaging from, long bytes, Object stream) {
        notCapturing(stream, "a copy");
        try {
            send(request(HTOD, 16).putLong(to).putLong(bytes));
            byte[] chunk = new byte[(int) Math.min(bytes, 1 << 20)];
            for (long done = 0; done < bytes; done += chunk.length) {
                int n = (int) Math.min(chunk.length, bytes - done);
                ((Staging) from).buf.getBytes(done, chunk, 0, n);
                out.write(chunk, 0, n);
            }
            status("copy " + bytes + " bytes to the device");
        } catch (IOException e) {
            throw broken("copy to device", e);
        }
    }

    @Override
    public synchronized void copyToHost(HostStaging to, long from, long bytes, Object stream) {
        notCapturing(stream, "a copy");
        try {
            send(request(DTOH, 16).putLong(from).putLong(bytes));
            status("copy " + bytes + " bytes to the host");
            byte[] chunk = new byte[(int) Math.min(bytes, 1 << 20)];
            for (long done = 0; done < bytes; done += chunk.length) {
                int n = (int) Math.min(chunk.length, bytes - done);
                readFully(chunk, 0, n);
                ((Staging) to).buf.setBytes(done, chunk, 0, n);
            }
        } catch (IOException e) {
            throw broken("copy to host", e);
        }
    }

    @Override
    public synchronized void copyOnDevice(long to, long from, long bytes, Object stream) {
        notCapturing(stream, "a copy");
        try {
            send(request(DTOD, 24).putLong(to).putLong(from).putLong(bytes));
            status("copy " + bytes + " bytes on the device");
        } catch (IOException e) {
            throw broken("copy on device", e);
        }
    }

    @Override
    public void synchronize(Object stream) {
    }

    @Override
    public Object loadModule(String name, byte[] image) {
        return name;   // the emulator links every family's kernels
    }

    @Override
    public Object function(Object module, String name) {
        return name;
    }

    @Override
    public void allowSharedBytes(Object function, String name, int bytes) {
    }

    /**
     * Stream capture as the driver does it, in Java: the launches {@code launches} queues on {@code stream} are
     * recorded, not run; the graph replays them in order on {@link #launchGraph}. A copy on a capturing stream fails
     * (the backend never copies inside a recorded pass).
     */
    @Override
    public Object captureGraph(Object stream, Runnable launches) {
        List<Runnable> graph = new ArrayList<>();
        synchronized (this) {
            if (capturing.containsKey(stream)) {
                throw new IllegalStateException("stream is already capturing");
            }
            capturing.put(stream, graph);
        }
        try {
            launches.run();
        } finally {
            synchronized (this) {
                capturing.remove(stream);
            }
        }
        return List.copyOf(graph);
    }

    @Override
    public void launchGraph(Object graph, Object stream) {
        @SuppressWarnings("unchecked")
        List<Runnable> launches = (List<Runnable>) graph;
        launches.forEach(Runnable::run);
    }

    @Override
    public void destroyGraph(Object graph) {
    }

    private void notCapturing(Object stream, String what) {
        if (capturing.containsKey(stream)) {
            throw new IllegalStateException(what + " on a stream under capture (not recordable here)");
        }
    }

    @Override
    public synchronized void launch(Object function, String name, int gridX, int gridY, int gridZ, int block,
                                    int sharedBytes, Object stream, KernelArgs args, String shapes) {
        List<Runnable> graph = capturing.get(stream);
        if (graph != null) {
            graph.add(() -> launch(function, name, gridX, gridY, gridZ, block, sharedBytes, stream, args, shapes));
            return;
        }
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = request(LAUNCH, 2 + n.length + 24 + 9 * args.count());
        b.putShort((short) n.length).put(n).putInt(gridX).putInt(gridY).putInt(gridZ).putInt(block)
                .putInt(sharedBytes).putInt(args.count());
        for (int i = 0; i < args.count(); i++) {
            b.put((byte) args.kind(i).ordinal()).putLong(args.bits(i));
        }
        try {
            send(b);
            status("launch " + name + " " + shapes);
        } catch (IOException e) {
            throw broken("launch " + name, e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            send(request(QUIT, 0));
            out.flush();
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            // the process is gone already
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            process.destroy();
            allocator.close();
        }
    }
}
