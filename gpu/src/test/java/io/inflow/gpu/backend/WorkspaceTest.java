package io.inflow.gpu.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.cpu.ReferenceCpuBackend;
import io.inflow.gpu.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Scratch buffers: reused at the largest size seen; a buffer beyond a tensor's 32-bit element index fails as an
 * out-of-memory (which the encoder answers by splitting the batch), not with an ArithmeticException that would
 * escape the batch-split path.
 */
class WorkspaceTest {

    @Test
    void buffersGrowAndAreReused() {
        try (Backend cpu = new ReferenceCpuBackend(null); Workspace ws = new Workspace(cpu)) {
            Tensor a = ws.get("x", 4, 8);
            Tensor b = ws.get("x", 2, 8);
            assertThat(b.address()).as("a smaller request reuses the buffer").isEqualTo(a.address());
            assertThat(ws.get("x", 16, 8).elementCount()).isEqualTo(128);
        }
    }

    @Test
    void aBufferBeyondTheIndexRangeIsAnOutOfMemoryTheEncoderSplitsOn() {
        try (Backend cpu = new ReferenceCpuBackend(null); Workspace ws = new Workspace(cpu)) {
            assertThatThrownBy(() -> ws.get("attention.scores", 65_536, 65_536))
                    .isInstanceOf(OutOfDeviceMemoryException.class)
                    .hasMessageContaining("attention.scores").hasMessageContaining("4294967296 elements");
        }
    }
}
