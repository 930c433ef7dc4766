package io.inflow.gpu.batch;

import io.inflow.gpu.image.DecodedImage;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.util.List;
import java.util.Map;

/**
 * A reusable Arrow batch of decoded 8-bit images of any size, the input of image preprocessing on a backend (CPU or
 * CUDA): decoding (the JDK's image readers) happens on the host before a row is appended, resizing, cropping and
 * normalisation happen in the backend's {@code preprocessImages} kernel, which reads these buffers directly.
 *
 * <p>Layout (one row per image):
 * <ul>
 *   <li>{@code pixels}: {@code binary}, the image's samples interleaved row-major
 *       ({@code [height, width, channels]}, as {@link DecodedImage#pixels()}); its offsets buffer
 *       ({@code int32 [rows + 1]}) and data buffer ({@code uint8 [offsets[rows]]}) are what a kernel reads;</li>
 *   <li>{@code width}, {@code height}, {@code channels}: {@code int32}; channels is 1 (gray) or 3 (RGB).</li>
 * </ul>
 * Schema metadata carries {@code inflow.batch.kind=image-decoded}.
 *
 * <p>The row count is fixed at construction; the pixel data buffer grows as rows are appended (bound the bytes per
 * batch with {@link #pixelBytes()}). {@link #clear()} keeps the buffers for reuse; close the batch to free them.
 *
 * <pre>{@code
 * try (BufferAllocator alloc = new RootAllocator();
 *      DecodedImageBatch batch = new DecodedImageBatch(alloc, 64)) {
 *     batch.append(decoder.decode(pngBytes));
 *     VitOutput out = vit.encode(batch);        // preprocessing + ViT on the encoder's backend
 * }
 * }</pre>
 */
public final class DecodedImageBatch extends RowBatch {

    public static final String PIXELS = "pixels";
    public static final String WIDTH = "width";
    public static final String HEIGHT = "height";
    public static final String CHANNELS = "channels";
    public static final String META_KIND = "inflow.batch.kind";
    public static final String KIND = "image-decoded";

    private final VectorSchemaRoot root;
    private final VarBinaryVector pixels;
    private final IntVector width;
    private final IntVector height;
    private final IntVector channels;
    private long pixelBytes;

    /**
     * Allocates a batch of up to {@code capacity} images.
     *
     * @throws IllegalArgumentException when {@code capacity} is not positive
     */
    public DecodedImageBatch(BufferAllocator allocator, int capacity) {
        super(capacity);
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive (got " + capacity + ")");
        }
        this.root = VectorSchemaRoot.create(schema(), allocator);
        this.pixels = (VarBinaryVector) root.getVector(PIXELS);
        this.width = (IntVector) root.getVector(WIDTH);
        this.height = (IntVector) root.getVector(HEIGHT);
        this.channels = (IntVector) root.getVector(CHANNELS);
        pixels.setInitialCapacity(capacity);
        width.setInitialCapacity(capacity);
        height.setInitialCapacity(capacity);
        channels.setInitialCapacity(capacity);
        root.allocateNew();
    }

    /** The Arrow schema of a decoded-image batch. */
    public static Schema schema() {
        FieldType int32 = FieldType.notNullable(new ArrowType.Int(32, true));
        return new Schema(List.of(
                new Field(PIXELS, FieldType.notNullable(ArrowType.Binary.INSTANCE), null),
                new Field(WIDTH, int32, null),
                new Field(HEIGHT, int32, null),
                new Field(CHANNELS, int32, null)), Map.of(META_KIND, KIND));
    }

    /**
     * Appends one image (its samples are copied into the batch).
     *
     * @return the row index
     * @throws IllegalStateException when the batch is full
     */
    public int append(DecodedImage image) {
        int row = nextRow();
        pixels.setSafe(row, image.pixels());
        width.set(row, image.width());
        height.set(row, image.height());
        channels.set(row, image.channels());
        pixelBytes += image.pixels().length;
        return commitRow();
    }

    /**
     * Forgets all rows; buffers stay allocated for reuse. Nothing is zeroed (the data buffer can hold tens of MiB):
     * the next row is written from offset 0 again, the offsets and validity of later rows are rewritten as they come.
     */
    @Override
    public void clear() {
        pixelBytes = 0;
        pixels.setLastSet(-1);
        super.clear();
    }

    /** The {@code uint8} sample bytes of all rows, back to back; row {@code r} starts at {@code offsets[r]}. */
    public ArrowBuf pixelsBuffer() {
        return pixels.getDataBuffer();
    }

    /** The {@code int32 [rows + 1]} start offsets of each row in {@link #pixelsBuffer()}. */
    public ArrowBuf offsetsBuffer() {
        return pixels.getOffsetBuffer();
    }

    /** The {@code int32 [rows]} widths. */
    public ArrowBuf widthsBuffer() {
        return width.getDataBuffer();
    }

    /** The {@code int32 [rows]} heights. */
    public ArrowBuf heightsBuffer() {
        return height.getDataBuffer();
    }

    /** The {@code int32 [rows]} channel counts (1 or 3). */
    public ArrowBuf channelsBuffer() {
        return channels.getDataBuffer();
    }

    /** Row {@code row} as a {@link DecodedImage} (copies the samples). */
    public DecodedImage image(int row) {
        checkRow(row);
        return new DecodedImage(width.get(row), height.get(row), channels.get(row), pixels.get(row), null);
    }

    public int width(int row) {
        checkRow(row);
        return width.get(row);
    }

    public int height(int row) {
        checkRow(row);
        return height.get(row);
    }

    public int channels(int row) {
        checkRow(row);
        return channels.get(row);
    }

    /** Sample bytes held by all rows. */
    public long pixelBytes() {
        return pixelBytes;
    }

    @Override
    public VectorSchemaRoot root() {
        return root;
    }
}
