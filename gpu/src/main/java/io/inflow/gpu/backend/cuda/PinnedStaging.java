package io.inflow.gpu.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemHostRegister;
import static jcuda.driver.JCudaDriver.cuMemHostUnregister;

import java.nio.ByteBuffer;
import jcuda.Pointer;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * A page-locked host buffer for DMA: off-heap memory from an Arrow allocator, page-aligned and registered with
 * {@code cuMemHostRegister}, so {@code cuMemcpyHtoDAsync}/{@code DtoHAsync} run at full PCIe speed. Host data
 * (Java arrays, Arrow buffers) is copied into it, then sent in chunks of {@link #bytes()}. Create and close on
 * a thread where the context is current ({@link JCudaDeviceApi}).
 *
 * <p>{@code NativeMemory.copy(src, staging.address(), n); cuMemcpyHtoDAsync(dst, staging.pointer(), n, stream);}
 */
final class PinnedStaging implements DeviceApi.HostStaging {
    private static final long PAGE = 4096;

    private final BufferAllocator allocator;
    private final ArrowBuf buf;
    private final long address;
    private final long bytes;
    private final Pointer pointer;

    PinnedStaging(long requestedBytes) {
        this.bytes = (requestedBytes + PAGE - 1) / PAGE * PAGE;
        this.allocator = new RootAllocator();
        this.buf = allocator.buffer(bytes + PAGE);
        long raw = buf.memoryAddress();
        long aligned = (raw + PAGE - 1) / PAGE * PAGE;
        this.address = aligned;
        ByteBuffer nio = buf.nioBuffer(aligned - raw, Math.toIntExact(bytes));
        this.pointer = Pointer.to(nio);
        int rc = cuMemHostRegister(pointer, bytes, 0);
        if (rc != 0) {
            buf.close();
            allocator.close();
            CudaCheck.check(rc, "cuMemHostRegister", "-", "staging buffer of " + bytes + " bytes");
        }
    }

    /** Host address of the pinned region (for {@link io.inflow.gpu.tensor.NativeMemory} copies). */
    @Override
    public long address() {
        return address;
    }

    /** The same region as a JCuda pointer (for the driver's copies). */
    Pointer pointer() {
        return pointer;
    }

    @Override
    public long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        int rc = cuMemHostUnregister(pointer);
        buf.close();
        allocator.close();
        CudaCheck.check(rc, "cuMemHostUnregister", "-", "staging buffer of " + bytes + " bytes");
    }
}
