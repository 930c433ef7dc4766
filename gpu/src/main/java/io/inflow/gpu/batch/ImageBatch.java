package io.inflow.gpu.batch;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.util.List;
import java.util.Map;

/**
 * The image counterpart of {@link TokenBatch}: a reusable Arrow {@link VectorSchemaRoot} holding up to
 * {@link #capacity()} preprocessed images of one shape, ready for an image encoder.
 *
 * <p>Layout (one row per image):
 * <ul>
 *   <li>{@code pixel_values}: {@code FixedSizeList<float32>[channels * height * width]}; its child data buffer is a
 *       dense row-major {@code float32 [rows, channels, height, width]} tensor (NCHW) that an encoder reads in
 *       place ({@link #pixelValuesAddress()}), no copy;</li>
 *   <li>{@code original_width}, {@code original_height}: {@code int32}, the decoded image's size before
 *       resizing.</li>
 * </ul>
 * Schema metadata carries {@code inflow.batch.kind=image-pixels}, {@code inflow.batch.channels},
 * {@code inflow.batch.height} and {@code inflow.batch.width}.
 *
 * <p>Rows are written in two steps so a preprocessor can write floats straight into the buffer: write
 * {@link #rowFloats()} floats at byte offset {@link #nextRowOffset()} of {@link #pixelValuesBuffer()}, then
 * {@link #commitRow}. A row that is never committed is overwritten by the next one. {@link #clear()} keeps the
 * buffers; close the batch to give the memory back.
 *
 * <pre>{@code
 * try (BufferAllocator alloc = new RootAllocator();
 *      ImageBatch batch = new ImageBatch(alloc, 1, 28, 28, 64)) {
 *     preprocessor.appendTo(batch, decodedImage);       // or batch.append(chwFloats, w, h)
 *     long pixels = batch.pixelValuesAddress();          // float32 [rowCount, 1, 28, 28]
 * }
 * }</pre>
 */
public final class ImageBatch extends RowBatch {

    public static final String PIXEL_VALUES = "pixel_values";
    public static final String ORIGINAL_WIDTH = "original_width";
    public static final String ORIGINAL_HEIGHT = "original_height";
    public static final String META_KIND = "inflow.batch.kind";
    public static final String META_CHANNELS = "inflow.batch.channels";
    public static final String META_HEIGHT = "inflow.batch.height";
    public static final String META_WIDTH = "inflow.batch.width";

    private final int channels;
    private final int height;
    private final int width;
    private final int rowFloats;
    private final VectorSchemaRoot root;
    private final FixedSizeListVector pixelValues;
    private final Float4Vector values;
    private final IntVector originalWidth;
    private final IntVector originalHeight;

    /**
     * Allocates a batch of {@code capacity} images of {@code [channels, height, width]}.
     *
     * @throws IllegalArgumentException when a size is not positive or one row is over 2^31 - 1 floats
     */
    public ImageBatch(BufferAllocator allocator, int channels, int height, int width, int capacity) {
        super(capacity);
        if (channels <= 0 || height <= 0 || width <= 0 || capacity <= 0) {
            throw new IllegalArgumentException("channels, height, width and capacity must be positive (channels="
                    + channels + ", height=" + height + ", width=" + width + ", capacity=" + capacity + ")");
        }
        long perRow = (long) channels * height * width;
        if (perRow * capacity > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("batch of " + capacity + " x " + channels + " x " + height + " x "
                    + width + " floats is over " + (Integer.MAX_VALUE / 4));
        }
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.rowFloats = (int) perRow;
        this.root = VectorSchemaRoot.create(schema(channels, height, width), allocator);
        this.pixelValues = (FixedSizeListVector) root.getVector(PIXEL_VALUES);
        this.originalWidth = (IntVector) root.getVector(ORIGINAL_WIDTH);
        this.originalHeight = (IntVector) root.getVector(ORIGINAL_HEIGHT);
        pixelValues.setInitialCapacity(capacity);
        originalWidth.setInitialCapacity(capacity);
        originalHeight.setInitialCapacity(capacity);
        root.allocateNew();
        this.values = (Float4Vector) pixelValues.getDataVector();
        if (values.getValueCapacity() < capacity * rowFloats) {
            throw new IllegalStateException("Arrow allocated " + values.getValueCapacity() + " floats for "
                    + capacity + " x " + rowFloats);
        }
        // rows are written as raw floats: mark every value slot valid once (the column is not nullable)
        long validityBytes = ((long) capacity * rowFloats + 7) / 8;
        values.getValidityBuffer().setOne(0, validityBytes);
    }

    /** The Arrow schema of a batch of {@code [channels, height, width]} images. */
    public static Schema schema(int channels, int height, int width) {
        Field child = new Field("value",
                FieldType.notNullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)), null);
        Field pixels = new Field(PIXEL_VALUES,
                FieldType.notNullable(new ArrowType.FixedSizeList(channels * height * width)), List.of(child));
        Field w = new Field(ORIGINAL_WIDTH, FieldType.notNullable(new ArrowType.Int(32, true)), null);
        Field h = new Field(ORIGINAL_HEIGHT, FieldType.notNullable(new ArrowType.Int(32, true)), null);
        return new Schema(List.of(pixels, w, h), Map.of(META_KIND, "image-pixels",
                META_CHANNELS, Integer.toString(channels), META_HEIGHT, Integer.toString(height),
                META_WIDTH, Integer.toString(width)));
    }

    /**
     * Byte offset in {@link #pixelValuesBuffer()} where the next row's {@link #rowFloats()} floats go.
     *
     * @throws IllegalStateException when the batch is full
     */
    public long nextRowOffset() {
        return (long) nextRow() * rowFloats * Float.BYTES;
    }

    /**
     * Commits the row written at {@link #nextRowOffset()}.
     *
     * @return the row index
     * @throws IllegalStateException when the batch is full
     * @throws IllegalArgumentException when an original size is not positive
     */
    public int commitRow(int originalWidthPx, int originalHeightPx) {
        int row = nextRow();
        if (originalWidthPx <= 0 || originalHeightPx <= 0) {
            throw new IllegalArgumentException("original size must be positive (" + originalWidthPx + " x "
                    + originalHeightPx + ")");
        }
        pixelValues.setNotNull(row);
        originalWidth.set(row, originalWidthPx);
        originalHeight.set(row, originalHeightPx);
        return commitRow();
    }

    /** Copies one {@code [channels, height, width]} image in and commits it. */
    public int append(float[] chw, int originalWidthPx, int originalHeightPx) {
        if (chw.length != rowFloats) {
            throw new IllegalArgumentException("a row needs " + rowFloats + " floats (" + channels + " x " + height
                    + " x " + width + "), got " + chw.length);
        }
        long offset = nextRowOffset();
        ArrowBuf buf = pixelValuesBuffer();
        for (int i = 0; i < chw.length; i++) {
            buf.setFloat(offset + 4L * i, chw[i]);
        }
        return commitRow(originalWidthPx, originalHeightPx);
    }


    /** The {@code float32 [capacity, channels, height, width]} buffer (rows past {@link #rowCount()} are stale). */
    public ArrowBuf pixelValuesBuffer() {
        return values.getDataBuffer();
    }

    /** Native address of the {@code float32 [rowCount, channels, height, width]} tensor. */
    public long pixelValuesAddress() {
        return values.getDataBuffer().memoryAddress();
    }

    /** The value at row, channel, y, x. */
    public float pixel(int row, int channel, int y, int x) {
        checkRow(row);
        if (channel < 0 || channel >= channels || y < 0 || y >= height || x < 0 || x >= width) {
            throw new IndexOutOfBoundsException("(" + channel + ", " + y + ", " + x + ") outside [" + channels + ", "
                    + height + ", " + width + "]");
        }
        return values.get(row * rowFloats + (channel * height + y) * width + x);
    }

    public int originalWidth(int row) {
        checkRow(row);
        return originalWidth.get(row);
    }

    public int originalHeight(int row) {
        checkRow(row);
        return originalHeight.get(row);
    }

    public int channels() {
        return channels;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** Floats per row: {@code channels * height * width}. */
    public int rowFloats() {
        return rowFloats;
    }

    @Override
    public VectorSchemaRoot root() {
        return root;
    }
}
