package io.inflow.gpu.batch;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.Float4Vector;
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
 * A reusable Arrow batch of float vectors of one dimension: column {@code vectors}, {@code FixedSizeList<float32>}
 * of {@code dim} values per row, row-major and contiguous ({@code float32 [rows, dim]} at {@link #valuesBuffer()}),
 * so a kernel reads the batch in place. The batch format of operators over embeddings (centroids, retrieval queries,
 * clustering windows).
 *
 * <pre>{@code
 * try (VectorBatch batch = new VectorBatch(allocator, 384, 64)) {
 *     batch.append(embedding);          // float[384]
 *     float x = batch.get(0, 5);
 * }
 * }</pre>
 */
public final class VectorBatch extends RowBatch {

    public static final String VECTORS = "vectors";
    public static final String META_KIND = "inflow.batch.kind";
    public static final String META_DIM = "inflow.batch.dim";

    private final int dim;
    private final VectorSchemaRoot root;
    private final FixedSizeListVector vectors;
    private final Float4Vector values;

    public VectorBatch(BufferAllocator allocator, int dim, int capacity) {
        super(capacity);
        if (dim <= 0 || capacity <= 0) {
            throw new IllegalArgumentException("dim and capacity must be positive (dim=" + dim + ", capacity="
                    + capacity + ")");
        }
        if ((long) dim * capacity > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("batch of " + capacity + " x " + dim + " floats is over "
                    + (Integer.MAX_VALUE / 4));
        }
        this.dim = dim;
        this.root = VectorSchemaRoot.create(schema(dim), allocator);
        this.vectors = (FixedSizeListVector) root.getVector(VECTORS);
        vectors.setInitialCapacity(capacity);
        root.allocateNew();
        this.values = (Float4Vector) vectors.getDataVector();
        // rows are written as raw floats: mark every value slot valid once (the column is not nullable)
        values.getValidityBuffer().setOne(0, ((long) capacity * dim + 7) / 8);
    }

    /** The schema: one non-nullable {@code FixedSizeList<float32>(dim)} column. */
    public static Schema schema(int dim) {
        Field child = new Field("value",
                FieldType.notNullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)), null);
        Field vectors = new Field(VECTORS, FieldType.notNullable(new ArrowType.FixedSizeList(dim)), List.of(child));
        return new Schema(List.of(vectors), Map.of(META_KIND, "vectors", META_DIM, Integer.toString(dim)));
    }

    /** Appends one vector; returns its row. */
    public int append(float[] vector) {
        if (vector.length != dim) {
            throw new IllegalArgumentException("a row needs " + dim + " floats, got " + vector.length);
        }
        int row = nextRow();
        ArrowBuf buf = values.getDataBuffer();
        long offset = (long) row * dim * Float.BYTES;
        for (int i = 0; i < dim; i++) {
            buf.setFloat(offset + 4L * i, vector[i]);
        }
        vectors.setNotNull(row);
        return commitRow();
    }

    /** Value {@code i} of row {@code row}. */
    public float get(int row, int i) {
        checkRow(row);
        return values.getDataBuffer().getFloat(((long) row * dim + i) * Float.BYTES);
    }

    /** A copy of row {@code row}. */
    public float[] row(int row) {
        checkRow(row);
        float[] out = new float[dim];
        ArrowBuf buf = values.getDataBuffer();
        long offset = (long) row * dim * Float.BYTES;
        for (int i = 0; i < dim; i++) {
            out[i] = buf.getFloat(offset + 4L * i);
        }
        return out;
    }

    public int dimension() {
        return dim;
    }

    /** The values, {@code float32 [rows, dim]} row-major. */
    public ArrowBuf valuesBuffer() {
        return values.getDataBuffer();
    }

    @Override
    public VectorSchemaRoot root() {
        return root;
    }
}
