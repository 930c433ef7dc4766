package io.inflow.gpu.batch;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageBatchTest {

    private BufferAllocator allocator;

    @BeforeEach
    void setUp() {
        allocator = new RootAllocator();
    }

    @AfterEach
    void tearDown() {
        allocator.close();     // live buffers make this throw: the leak check
    }

    private static float[] ramp(int n, float start) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = start + i;
        }
        return f;
    }

    @Test
    void rowsAreADenseNchwTensor() {
        try (ImageBatch batch = new ImageBatch(allocator, 3, 2, 5, 4)) {
            assertThat(batch.rowFloats()).isEqualTo(30);
            batch.append(ramp(30, 0), 640, 480);
            batch.append(ramp(30, 100), 7, 9);
            assertThat(batch.rowCount()).isEqualTo(2);
            assertThat(batch.root().getRowCount()).isEqualTo(2);
            for (int i = 0; i < 60; i++) {
                float expected = i < 30 ? i : 100 + (i - 30);
                assertThat(batch.pixelValuesBuffer().getFloat(4L * i)).as("flat %d", i).isEqualTo(expected);
            }
            // [row 1, channel 2, y 1, x 3] = 100 + (2 * 2 + 1) * 5 + 3
            assertThat(batch.pixel(1, 2, 1, 3)).isEqualTo(128f);
            assertThat(batch.originalWidth(0)).isEqualTo(640);
            assertThat(batch.originalHeight(1)).isEqualTo(9);
            FixedSizeListVector list = (FixedSizeListVector) batch.root().getVector(ImageBatch.PIXEL_VALUES);
            assertThat(list.getListSize()).isEqualTo(30);
            assertThat(batch.root().getSchema().getCustomMetadata())
                    .containsEntry(ImageBatch.META_KIND, "image-pixels").containsEntry(ImageBatch.META_CHANNELS, "3")
                    .containsEntry(ImageBatch.META_HEIGHT, "2").containsEntry(ImageBatch.META_WIDTH, "5");
        }
    }

    @Test
    void clearReusesTheBufferAndUncommittedRowsAreOverwritten() {
        try (ImageBatch batch = new ImageBatch(allocator, 1, 1, 2, 2)) {
            batch.append(new float[] {1, 2}, 1, 1);
            long address = batch.pixelValuesAddress();
            batch.clear();
            assertThat(batch.rowCount()).isZero();
            // write without committing: not a row
            batch.pixelValuesBuffer().setFloat(batch.nextRowOffset(), 9f);
            assertThat(batch.rowCount()).isZero();
            batch.append(new float[] {5, 6}, 2, 2);
            assertThat(batch.pixelValuesAddress()).isEqualTo(address);
            assertThat(batch.pixel(0, 0, 0, 0)).isEqualTo(5f);
        }
    }

    @Test
    void rejectsOverflowAndBadRows() {
        try (ImageBatch batch = new ImageBatch(allocator, 1, 2, 2, 1)) {
            assertThatThrownBy(() -> batch.append(new float[3], 1, 1)).hasMessageContaining("needs 4 floats")
                    .hasMessageContaining("got 3");
            assertThatThrownBy(() -> batch.commitRow(0, 5)).hasMessageContaining("(0 x 5)");
            batch.append(new float[4], 1, 1);
            assertThat(batch.isFull()).isTrue();
            assertThatThrownBy(() -> batch.append(new float[4], 1, 1)).hasMessageContaining("full (1 rows)");
            assertThatThrownBy(() -> batch.pixel(1, 0, 0, 0)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> batch.pixel(0, 1, 0, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        }
        assertThatThrownBy(() -> new ImageBatch(allocator, 0, 28, 28, 1)).hasMessageContaining("channels=0");
    }

    @Test
    void survivesArrowIpc() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageBatch batch = new ImageBatch(allocator, 1, 2, 2, 3)) {
            batch.append(new float[] {0.5f, -1f, 2f, 3.25f}, 28, 28);
            try (ArrowStreamWriter writer = new ArrowStreamWriter(batch.root(), null, Channels.newChannel(bytes))) {
                writer.start();
                writer.writeBatch();
                writer.end();
            }
        }
        try (ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(bytes.toByteArray()), allocator)) {
            assertThat(reader.loadNextBatch()).isTrue();
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            assertThat(root.getRowCount()).isEqualTo(1);
            FixedSizeListVector list = (FixedSizeListVector) root.getVector(ImageBatch.PIXEL_VALUES);
            assertThat(new java.util.ArrayList<Object>(list.getObject(0))).containsExactly(0.5f, -1f, 2f, 3.25f);
            assertThat(root.getSchema().getCustomMetadata()).containsEntry(ImageBatch.META_KIND, "image-pixels");
        }
    }
}
