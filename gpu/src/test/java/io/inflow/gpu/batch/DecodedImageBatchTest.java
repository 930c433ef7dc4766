package io.inflow.gpu.batch;

import io.inflow.gpu.image.DecodedImage;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DecodedImageBatchTest {

    private static DecodedImage image(int w, int h, int c, int seed) {
        byte[] px = new byte[w * h * c];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (seed + 7 * i);
        }
        return new DecodedImage(w, h, c, px, null);
    }

    @Test
    void rowsOfDifferentSizesLieBackToBackWithArrowOffsets() {
        try (BufferAllocator alloc = new RootAllocator();
             DecodedImageBatch batch = new DecodedImageBatch(alloc, 3)) {
            DecodedImage a = image(28, 28, 1, 1);
            DecodedImage b = image(5, 3, 3, 2);
            assertThat(batch.append(a)).isZero();
            assertThat(batch.append(b)).isEqualTo(1);
            assertThat(batch.rowCount()).isEqualTo(2);
            assertThat(batch.pixelBytes()).isEqualTo(28 * 28 + 5 * 3 * 3);
            assertThat(batch.offsetsBuffer().getInt(0)).isZero();
            assertThat(batch.offsetsBuffer().getInt(4)).isEqualTo(784);
            assertThat(batch.offsetsBuffer().getInt(8)).isEqualTo(784 + 45);
            assertThat(batch.pixelsBuffer().getByte(784 + 44)).isEqualTo(b.pixels()[44]);
            assertThat(batch.widthsBuffer().getInt(4)).isEqualTo(5);
            assertThat(batch.heightsBuffer().getInt(4)).isEqualTo(3);
            assertThat(batch.channelsBuffer().getInt(4)).isEqualTo(3);
            assertThat(batch.image(1)).usingRecursiveComparison().isEqualTo(b);
            assertThat(batch.root().getSchema().getCustomMetadata())
                    .containsEntry(DecodedImageBatch.META_KIND, DecodedImageBatch.KIND);
        }
    }

    @Test
    void clearKeepsTheBatchReusableAndAFullBatchRefusesRows() {
        try (BufferAllocator alloc = new RootAllocator();
             DecodedImageBatch batch = new DecodedImageBatch(alloc, 2)) {
            batch.append(image(100, 100, 3, 3));
            batch.append(image(2, 2, 1, 4));
            assertThat(batch.isFull()).isTrue();
            assertThatThrownBy(() -> batch.append(image(1, 1, 1, 5)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("full (2 rows)");
            batch.clear();
            assertThat(batch.isEmpty()).isTrue();
            assertThat(batch.pixelBytes()).isZero();
            DecodedImage c = image(3, 4, 1, 6);
            batch.append(c);
            assertThat(batch.offsetsBuffer().getInt(4)).isEqualTo(12);
            assertThat(batch.image(0)).usingRecursiveComparison().isEqualTo(c);
            assertThatThrownBy(() -> batch.width(1)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }
}
