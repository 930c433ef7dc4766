package io.inflow.gpu.retrieval;

import io.inflow.schemas.Float16;

import java.util.Arrays;

/**
 * A fixed-capacity block of document vectors in one {@link Storage}: row-major values, and per row a norm (of the
 * stored, dequantized vector), a tie key, a filter code and a live flag. An index is a list of chunks; the
 * {@link RetrievalOps} kernels read them directly. Rows are written in place ({@link #set}) and cleared by
 * {@link #delete}; {@link #copy} gives an independent chunk, so a caller can keep searches on an immutable version
 * while it updates another (copy on write per chunk). {@link #version()} changes with every write (device mirrors
 * re-upload a chunk whose version moved).
 *
 * <p>Ties: hits with equal scores are ordered by tie key ascending, then chunk and row ascending, on every backend.
 * The filter code is the caller's interned attribute value (e.g. a tenant); {@link #NO_FILTER_CODE} when none.
 *
 * <pre>{@code
 * VectorChunk c = new VectorChunk(Storage.FLOAT16, 3, 4096);
 * int row = c.append(new float[] {0.6f, 0.8f, 0f}, 0, 42L, VectorChunk.NO_FILTER_CODE);
 * c.delete(row);
 * }</pre>
 *
 * <p>Not thread-safe for writes; reads of a chunk nobody writes are safe from any thread.
 */
public final class VectorChunk {

    /** Rows per chunk unless the caller says otherwise. */
    public static final int DEFAULT_CAPACITY = 4096;
    /** The filter code of a row with no filter attribute; a query with this code matches every row. */
    public static final int NO_FILTER_CODE = -1;

    private final Storage storage;
    private final int dim;
    private final int capacity;
    private final float[] f32;
    private final short[] f16;
    private final byte[] i8;
    private final float[] scales;
    private final float[] norms;
    private final long[] tieKeys;
    private final int[] filterCodes;
    private final boolean[] live;
    private int count;
    private int liveCount;
    private long version;

    /** An empty chunk of {@code capacity} rows of {@code dim} values. */
    public VectorChunk(Storage storage, int dim, int capacity) {
        if (dim < 1 || capacity < 1) {
            throw new IllegalArgumentException("dim and capacity must be positive (were " + dim + ", " + capacity
                    + ")");
        }
        this.storage = storage;
        this.dim = dim;
        this.capacity = capacity;
        long values = (long) dim * capacity;
        if (values > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("dim * capacity = " + values + " values do not fit one chunk");
        }
        this.f32 = storage == Storage.FLOAT32 ? new float[(int) values] : null;
        this.f16 = storage == Storage.FLOAT16 ? new short[(int) values] : null;
        this.i8 = storage == Storage.INT8 ? new byte[(int) values] : null;
        this.scales = storage == Storage.INT8 ? new float[capacity] : null;
        this.norms = new float[capacity];
        this.tieKeys = new long[capacity];
        this.filterCodes = new int[capacity];
        this.live = new boolean[capacity];
    }

    private VectorChunk(VectorChunk o) {
        storage = o.storage;
        dim = o.dim;
        capacity = o.capacity;
        f32 = o.f32 == null ? null : o.f32.clone();
        f16 = o.f16 == null ? null : o.f16.clone();
        i8 = o.i8 == null ? null : o.i8.clone();
        scales = o.scales == null ? null : o.scales.clone();
        norms = o.norms.clone();
        tieKeys = o.tieKeys.clone();
        filterCodes = o.filterCodes.clone();
        live = o.live.clone();
        count = o.count;
        liveCount = o.liveCount;
        version = o.version;
    }

    /** An independent copy (same version). */
    public VectorChunk copy() {
        return new VectorChunk(this);
    }

    /** Writes {@code vector[offset, offset + dim)} into the next free row at the end; returns the row. */
    public int append(float[] vector, int offset, long tieKey, int filterCode) {
        if (count == capacity) {
            throw new IllegalStateException("chunk is full (" + capacity + " rows)");
        }
        int row = count++;
        set(row, vector, offset, tieKey, filterCode);
        return row;
    }

    /** Writes (quantizing as the storage says) and marks {@code row} live; {@code row < capacity}. */
    public void set(int row, float[] vector, int offset, long tieKey, int filterCode) {
        if (row < 0 || row >= capacity) {
            throw new IndexOutOfBoundsException("row " + row + " of a chunk of " + capacity);
        }
        if (vector.length - offset < dim) {
            throw new IllegalArgumentException("vector has " + (vector.length - offset) + " values from offset "
                    + offset + ", the chunk holds " + dim);
        }
        setStored(row, encode(storage, vector, offset, dim), tieKey, filterCode);
    }

    /**
     * The stored form of {@code vector[offset, offset + dim)} in {@code storage}, as bytes (little-endian): float32
     * values; float16 bits; or for int8 the float scale followed by the {@code dim} quantized values. This is what
     * {@link #set} writes and what an index keeps in its checkpointed state, so a restore rebuilds the same rows bit
     * for bit ({@link #setStored}).
     */
    public static byte[] encode(Storage storage, float[] vector, int offset, int dim) {
        if (vector.length - offset < dim) {
            throw new IllegalArgumentException("vector has " + (vector.length - offset) + " values from offset "
                    + offset + ", " + dim + " needed");
        }
        java.nio.ByteBuffer out;
        switch (storage) {
            case FLOAT32 -> {
                out = java.nio.ByteBuffer.allocate(4 * dim).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int j = 0; j < dim; j++) {
                    out.putFloat(vector[offset + j]);
                }
            }
            case FLOAT16 -> {
                out = java.nio.ByteBuffer.allocate(2 * dim).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int j = 0; j < dim; j++) {
                    out.putShort(Float16.fromFloat(vector[offset + j]));
                }
            }
            default -> {
                float max = 0;
                for (int j = 0; j < dim; j++) {
                    max = Math.max(max, Math.abs(vector[offset + j]));
                }
                float scale = max == 0 ? 0 : max / 127f;
                out = java.nio.ByteBuffer.allocate(4 + dim).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                out.putFloat(scale);
                for (int j = 0; j < dim; j++) {
                    int q = scale == 0 ? 0 : Math.round(vector[offset + j] / scale);
                    out.put((byte) Math.max(-127, Math.min(127, q)));
                }
            }
        }
        return out.array();
    }

    /** Bytes of one stored vector of {@code dim} values in {@code storage} ({@link #encode}). */
    public static int storedBytes(Storage storage, int dim) {
        return switch (storage) {
            case FLOAT32 -> 4 * dim;
            case FLOAT16 -> 2 * dim;
            case INT8 -> 4 + dim;
        };
    }

    /** Row {@code row}'s stored form ({@link #encode}'s layout). */
    public byte[] stored(int row) {
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(storedBytes(storage, dim))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int base = row * dim;
        switch (storage) {
            case FLOAT32 -> {
                for (int j = 0; j < dim; j++) {
                    out.putFloat(f32[base + j]);
                }
            }
            case FLOAT16 -> {
                for (int j = 0; j < dim; j++) {
                    out.putShort(f16[base + j]);
                }
            }
            case INT8 -> {
                out.putFloat(scales[row]);
                out.put(i8, base, dim);
            }
        }
        return out.array();
    }

    /** Writes a stored form ({@link #encode}) into {@code row} and marks it live. */
    public void setStored(int row, byte[] stored, long tieKey, int filterCode) {
        if (row < 0 || row >= capacity) {
            throw new IndexOutOfBoundsException("row " + row + " of a chunk of " + capacity);
        }
        if (stored.length != storedBytes(storage, dim)) {
            throw new IllegalArgumentException("a stored " + storage + " vector of dim " + dim + " has "
                    + storedBytes(storage, dim) + " bytes, not " + stored.length);
        }
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(stored).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int base = row * dim;
        double sq = 0;
        switch (storage) {
            case FLOAT32 -> {
                for (int j = 0; j < dim; j++) {
                    f32[base + j] = in.getFloat();
                    sq += (double) f32[base + j] * f32[base + j];
                }
            }
            case FLOAT16 -> {
                for (int j = 0; j < dim; j++) {
                    f16[base + j] = in.getShort();
                    double v = Float16.toFloat(f16[base + j]);
                    sq += v * v;
                }
            }
            case INT8 -> {
                float scale = in.getFloat();
                scales[row] = scale;
                for (int j = 0; j < dim; j++) {
                    i8[base + j] = in.get();
                    double v = (double) scale * i8[base + j];
                    sq += v * v;
                }
            }
        }
        norms[row] = (float) Math.sqrt(sq);
        tieKeys[row] = tieKey;
        filterCodes[row] = filterCode;
        if (!live[row]) {
            live[row] = true;
            liveCount++;
        }
        count = Math.max(count, row + 1);
        version++;
    }

    /** Clears {@code row}: no search returns it until it is {@link #set} again. */
    public void delete(int row) {
        if (row < count && live[row]) {
            live[row] = false;
            liveCount--;
            version++;
        }
    }

    /** Changes a live row's tie key (the caller relabels keys when its order needs room). */
    public void setTieKey(int row, long tieKey) {
        tieKeys[row] = tieKey;
        version++;
    }

    /** Value {@code j} of {@code row} as stored (dequantized). */
    public float value(int row, int j) {
        int i = row * dim + j;
        return switch (storage) {
            case FLOAT32 -> f32[i];
            case FLOAT16 -> Float16.toFloat(f16[i]);
            case INT8 -> scales[row] * i8[i];
        };
    }

    /** The stored (dequantized) vector of {@code row}. */
    public float[] row(int row) {
        float[] out = new float[dim];
        for (int j = 0; j < dim; j++) {
            out[j] = value(row, j);
        }
        return out;
    }

    public Storage storage() {
        return storage;
    }

    public int dim() {
        return dim;
    }

    public int capacity() {
        return capacity;
    }

    /** Rows in use: every live row is below it (deleted rows below it are holes). */
    public int count() {
        return count;
    }

    /** Live rows. */
    public int liveCount() {
        return liveCount;
    }

    /** Changes with every write. */
    public long version() {
        return version;
    }

    /** Float32 values, row-major {@code [capacity, dim]}; null unless {@link Storage#FLOAT32}. Do not write. */
    public float[] f32() {
        return f32;
    }

    /** Half-precision bits, row-major; null unless {@link Storage#FLOAT16}. Do not write. */
    public short[] f16() {
        return f16;
    }

    /** Int8 values, row-major; null unless {@link Storage#INT8}. Do not write. */
    public byte[] i8() {
        return i8;
    }

    /** Per-row scales; null unless {@link Storage#INT8}. Do not write. */
    public float[] scales() {
        return scales;
    }

    /** Per-row norms of the stored vectors. Do not write. */
    public float[] norms() {
        return norms;
    }

    /** Per-row tie keys. Do not write. */
    public long[] tieKeys() {
        return tieKeys;
    }

    /** Per-row filter codes. Do not write. */
    public int[] filterCodes() {
        return filterCodes;
    }

    /** Per-row live flags. Do not write. */
    public boolean[] live() {
        return live;
    }

    /** Whether {@code row} is live. */
    public boolean isLive(int row) {
        return row < count && live[row];
    }

    /** Heap bytes held by the chunk's arrays. */
    public long bytesUsed() {
        long values = (long) dim * capacity * storage.bytesPerValue();
        long perRow = 4 + 8 + 4 + 1 + (storage == Storage.INT8 ? 4 : 0);
        return values + perRow * capacity;
    }

    @Override
    public String toString() {
        return "VectorChunk[" + storage + ", dim " + dim + ", " + liveCount + " live of " + count + "/" + capacity
                + ", version " + version + "]";
    }

    /** For tests: whether two chunks hold the same rows, values and metadata. */
    public boolean sameContent(VectorChunk o) {
        return storage == o.storage && dim == o.dim && count == o.count && Arrays.equals(live, o.live)
                && Arrays.equals(f32, o.f32) && Arrays.equals(f16, o.f16) && Arrays.equals(i8, o.i8)
                && Arrays.equals(scales, o.scales) && Arrays.equals(tieKeys, o.tieKeys)
                && Arrays.equals(filterCodes, o.filterCodes);
    }
}
