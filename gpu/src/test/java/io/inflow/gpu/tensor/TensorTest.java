package io.inflow.gpu.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TensorTest {
    private BufferAllocator allocator;

    @BeforeEach
    void open() {
        allocator = new RootAllocator();
    }

    @AfterEach
    void closeAllocatorFailsOnLeaks() {
        allocator.close();
    }

    @Test
    void uint8TensorsViewBytesAsUnsignedSamples() {
        try (ArrowBuf buf = allocator.buffer(6);
             Backend cpu = Backends.create(BackendKind.CPU, 1)) {
            for (int i = 0; i < 6; i++) {
                buf.setByte(i, 250 + i);                        // 250..255: the high bit set
            }
            Tensor t = Tensor.wrap(buf, DType.UINT8, 2, 3);
            assertThat(DType.UINT8.byteSize()).isEqualTo(1);
            assertThat(t.getUnsignedByte(5)).isEqualTo(255);
            assertThat(t.view(3, 3).getUnsignedByte(0)).as("views count elements of 1 byte").isEqualTo(253);
            t.setUnsignedByte(0, 7);
            assertThat(buf.getByte(0)).isEqualTo((byte) 7);
            try (Tensor copy = cpu.allocate(DType.UINT8, 2, 3)) {
                cpu.copy(t, copy);
                assertThat(copy.toByteArray()).containsExactly(7, (byte) 251, (byte) 252, (byte) 253, (byte) 254,
                        (byte) 255);
                copy.copyFrom(new byte[] {1, 2, 3, 4, 5, 6});
                assertThat(copy.getUnsignedByte(2)).isEqualTo(3);
            }
            assertThatThrownBy(() -> t.getInt(0)).hasMessageContaining("tensor is UINT8, accessed as INT32");
        }
    }

    @Test
    void wrapsArrowBufferWithoutCopying() {
        try (ArrowBuf buf = allocator.buffer(4 * 6)) {
            for (int i = 0; i < 6; i++) {
                buf.setInt(4L * i, i + 1);
            }
            Tensor t = Tensor.wrap(buf, DType.INT32, 2, 3);
            assertThat(t.ownsMemory()).isFalse();
            assertThat(t.toIntArray()).containsExactly(1, 2, 3, 4, 5, 6);
            t.setInt(4, 42);
            assertThat(buf.getInt(16)).isEqualTo(42);       // same memory
            assertThat(t.row(1).toIntArray()).containsExactly(4, 42, 6);
            t.close();                                      // a view: does not free the Arrow buffer
            assertThat(buf.getInt(0)).isEqualTo(1);
        }
    }

    @Test
    void wrapsAnArrowIntVectorDataBuffer() {
        try (IntVector v = new IntVector("ids", allocator)) {
            v.allocateNew(4);
            for (int i = 0; i < 4; i++) {
                v.set(i, 10 * i);
            }
            v.setValueCount(4);
            Tensor t = Tensor.wrap(v.getDataBuffer(), DType.INT32, 2, 2);
            assertThat(t.toIntArray()).containsExactly(0, 10, 20, 30);
        }
    }

    @Test
    void rejectsMemoryTooSmallForTheShape() {
        try (ArrowBuf buf = allocator.buffer(8)) {
            assertThatThrownBy(() -> Tensor.wrap(buf.memoryAddress(), 8, DType.FLOAT32, 3))
                    .hasMessageContaining("needs 12 bytes").hasMessageContaining("holds 8");
        }
    }

    @Test
    void viewsAndReshapesShareMemoryAndCheckBounds() {
        try (Backend b = Backends.create(BackendKind.CPU, 1, allocator);
             Tensor t = b.upload(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            assertThat(t.reshape(3, 2).dim(0)).isEqualTo(3);
            assertThat(t.view(2, 2).toFloatArray()).containsExactly(3, 4);
            assertThatThrownBy(() -> t.view(5, 2)).hasMessageContaining("exceeds");
            assertThatThrownBy(() -> t.reshape(4, 2)).hasMessageContaining("cannot reshape");
            assertThatThrownBy(() -> t.getInt(0)).hasMessageContaining("FLOAT32");
        }
    }

    @Test
    void backendCloseFailsWhileItsTensorsAreOpen() {
        Backend b = Backends.create(BackendKind.CPU, 1);   // its own root allocator: this test leaks on purpose
        b.allocate(DType.FLOAT32, 16);
        assertThatThrownBy(b::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("leak");
    }

    @Test
    void closedTensorRejectsAccess() {
        try (Backend b = Backends.create(BackendKind.CPU, 1, allocator)) {
            Tensor t = b.allocate(DType.FLOAT32, 4);
            t.close();
            t.close();   // idempotent
            assertThatThrownBy(() -> t.getFloat(0)).hasMessageContaining("closed");
        }
    }

    @Test
    void halfFloatConversions() {
        assertThat(HalfFloats.f16ToFloat((short) 0x3c00)).isEqualTo(1f);
        assertThat(HalfFloats.f16ToFloat((short) 0xc000)).isEqualTo(-2f);
        assertThat(HalfFloats.f16ToFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        assertThat(HalfFloats.f16ToFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(HalfFloats.bf16ToFloat((short) 0x3fc0)).isEqualTo(1.5f);
    }
}
