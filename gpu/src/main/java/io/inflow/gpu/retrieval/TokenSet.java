package io.inflow.gpu.retrieval;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The document side of MaxSim: several documents' token vectors in one {@link TokenStorage}, back to back; document
 * {@code d} owns tokens {@code [offset(d), offset(d + 1))}. Built from each document's stored form ({@link #encode}),
 * which is also what an index keeps in its checkpointed state, so a restore rebuilds the same bits.
 *
 * <p>In memory: {@link TokenStorage#FLOAT32} as floats; {@link TokenStorage#INT8} as bytes plus a float scale per
 * token; {@link TokenStorage#BIT1} as {@code ceil(dim / 64)} longs per token (value {@code j} is bit {@code j % 64}
 * of word {@code j / 64}, 1 meaning +1) plus a float scale per token.
 *
 * <pre>{@code
 * byte[] stored = TokenSet.encode(TokenStorage.INT8, tokens, 0, 12, 384);   // a document of 12 tokens
 * TokenSet docs = new TokenSet.Builder(TokenStorage.INT8, 384).add(stored).build();
 * float[] scores = backend.retrieval().maxSim(queries, docs, new int[] {0}, new int[] {0});
 * }</pre>
 */
public final class TokenSet {

    private final TokenStorage storage;
    private final int dim;
    private final int[] offsets;
    private final float[] f32;
    private final byte[] i8;
    private final long[] bits;
    private final float[] scales;

    private TokenSet(TokenStorage storage, int dim, int[] offsets, float[] f32, byte[] i8, long[] bits,
                     float[] scales) {
        this.storage = storage;
        this.dim = dim;
        this.offsets = offsets;
        this.f32 = f32;
        this.i8 = i8;
        this.bits = bits;
        this.scales = scales;
    }

    /**
     * The stored form of {@code count} token vectors {@code tokens[offset + t * dim, ...)}, little-endian: per token,
     * float32 values; or for INT8 and BIT1 the float scale followed by {@code dim} bytes, or by {@code ceil(dim / 8)}
     * bytes of sign bits (value {@code j} in bit {@code j % 8} of byte {@code j / 8}).
     */
    public static byte[] encode(TokenStorage storage, float[] tokens, int offset, int count, int dim) {
        if (count < 1 || dim < 1) {
            throw new IllegalArgumentException("a document needs at least one token of positive dim (count " + count
                    + ", dim " + dim + ")");
        }
        if (tokens.length - offset < (long) count * dim) {
            throw new IllegalArgumentException(count + " tokens of dim " + dim + " need " + (long) count * dim
                    + " values from offset " + offset + ", found " + (tokens.length - offset));
        }
        ByteBuffer out = ByteBuffer.allocate(count * storage.bytesPerToken(dim)).order(ByteOrder.LITTLE_ENDIAN);
        for (int t = 0; t < count; t++) {
            int base = offset + t * dim;
            switch (storage) {
                case FLOAT32 -> {
                    for (int j = 0; j < dim; j++) {
                        out.putFloat(tokens[base + j]);
                    }
                }
                case INT8 -> {
                    float max = 0;
                    for (int j = 0; j < dim; j++) {
                        max = Math.max(max, Math.abs(tokens[base + j]));
                    }
                    float scale = max == 0 ? 0 : max / 127f;
                    out.putFloat(scale);
                    for (int j = 0; j < dim; j++) {
                        int q = scale == 0 ? 0 : Math.round(tokens[base + j] / scale);
                        out.put((byte) Math.max(-127, Math.min(127, q)));
                    }
                }
                case BIT1 -> {
                    double sum = 0;
                    for (int j = 0; j < dim; j++) {
                        sum += Math.abs(tokens[base + j]);
                    }
                    out.putFloat((float) (sum / dim));
                    for (int b = 0; b < (dim + 7) / 8; b++) {
                        int v = 0;
                        for (int j = b * 8; j < Math.min(dim, b * 8 + 8); j++) {
                            if (tokens[base + j] >= 0) {
                                v |= 1 << (j - b * 8);
                            }
                        }
                        out.put((byte) v);
                    }
                }
            }
        }
        return out.array();
    }

    /** Tokens in a stored form of {@code storedBytes} bytes; fails when it is not a whole number of tokens. */
    public static int tokenCount(TokenStorage storage, int dim, int storedBytes) {
        int per = storage.bytesPerToken(dim);
        if (storedBytes <= 0 || storedBytes % per != 0) {
            throw new IllegalArgumentException("a stored " + storage + " document of dim " + dim + " has a multiple of "
                    + per + " bytes, not " + storedBytes);
        }
        return storedBytes / per;
    }

    public TokenStorage storage() {
        return storage;
    }

    public int dim() {
        return dim;
    }

    /** Number of documents. */
    public int count() {
        return offsets.length - 1;
    }

    /** First token of document {@code d}; {@code offset(count())} is the total. */
    public int offset(int d) {
        return offsets[d];
    }

    public int tokenCount(int d) {
        return offsets[d + 1] - offsets[d];
    }

    /** Total tokens over all documents. */
    public int totalTokens() {
        return offsets[offsets.length - 1];
    }

    /** Long words per token in {@link TokenStorage#BIT1}. */
    public int wordsPerToken() {
        return (dim + 63) / 64;
    }

    /** Stored value {@code j} of token {@code t} (a global token index), dequantized. */
    public float value(int t, int j) {
        return switch (storage) {
            case FLOAT32 -> f32[t * dim + j];
            case INT8 -> scales[t] * i8[t * dim + j];
            case BIT1 -> ((bits[t * wordsPerToken() + (j >>> 6)] >>> (j & 63)) & 1L) != 0 ? scales[t] : -scales[t];
        };
    }

    /** FLOAT32 values {@code [totalTokens, dim]} (null for other storages); kernels read, never write. */
    public float[] float32Values() {
        return f32;
    }

    /** INT8 values {@code [totalTokens, dim]} (null for other storages). */
    public byte[] int8Values() {
        return i8;
    }

    /** BIT1 sign words {@code [totalTokens, wordsPerToken()]} (null for other storages). */
    public long[] bitWords() {
        return bits;
    }

    /** Per-token scales (null for FLOAT32). */
    public float[] scales() {
        return scales;
    }

    /** Token offsets, {@code count() + 1} entries (a copy). */
    public int[] offsets() {
        return offsets.clone();
    }

    /**
     * MaxSim pair indices ordered by document, stable (pairs of one document keep their order), by counting sort: the
     * order the kernels visit pairs in, so each document's tokens are read once for all its pairs.
     */
    public static int[] pairsByDocument(int[] pairDoc, int documents) {
        int[] start = new int[documents + 1];
        for (int d : pairDoc) {
            start[d + 1]++;
        }
        for (int d = 0; d < documents; d++) {
            start[d + 1] += start[d];
        }
        int[] order = new int[pairDoc.length];
        for (int p = 0; p < pairDoc.length; p++) {
            order[start[pairDoc[p]]++] = p;
        }
        return order;
    }

    /** Bytes the set occupies as stored (values and scales). */
    public long storedBytes() {
        return (long) totalTokens() * storage.bytesPerToken(dim);
    }

    /**
     * Collects documents' stored forms into a {@link TokenSet}.
     *
     * <p>{@code TokenSet s = new TokenSet.Builder(TokenStorage.BIT1, 128).add(a).add(b).build();}
     */
    public static final class Builder {
        private final TokenStorage storage;
        private final int dim;
        private int[] offsets = new int[16];
        private int count;
        private byte[] stored = new byte[1024];
        private int used;

        public Builder(TokenStorage storage, int dim) {
            if (dim < 1) {
                throw new IllegalArgumentException("dim must be positive (was " + dim + ")");
            }
            this.storage = storage;
            this.dim = dim;
        }

        /** Appends a document's stored form ({@link #encode}); its index is the number of documents added before. */
        public Builder add(byte[] document) {
            int tokens = tokenCount(storage, dim, document.length);
            if (count + 2 > offsets.length) {
                offsets = Arrays.copyOf(offsets, offsets.length * 2);
            }
            offsets[count + 1] = offsets[count] + tokens;
            count++;
            if (used + document.length > stored.length) {
                stored = Arrays.copyOf(stored, Math.max(stored.length * 2, used + document.length));
            }
            System.arraycopy(document, 0, stored, used, document.length);
            used += document.length;
            return this;
        }

        public int count() {
            return count;
        }

        public TokenSet build() {
            int total = offsets[count];
            ByteBuffer in = ByteBuffer.wrap(stored, 0, used).order(ByteOrder.LITTLE_ENDIAN);
            float[] f32 = null;
            byte[] i8 = null;
            long[] bits = null;
            float[] scales = null;
            switch (storage) {
                case FLOAT32 -> {
                    f32 = new float[total * dim];
                    in.asFloatBuffer().get(f32);
                }
                case INT8 -> {
                    i8 = new byte[total * dim];
                    scales = new float[total];
                    for (int t = 0; t < total; t++) {
                        scales[t] = in.getFloat();
                        in.get(i8, t * dim, dim);
                    }
                }
                case BIT1 -> {
                    int words = (dim + 63) / 64;
                    bits = new long[total * words];
                    scales = new float[total];
                    for (int t = 0; t < total; t++) {
                        scales[t] = in.getFloat();
                        for (int b = 0; b < (dim + 7) / 8; b++) {
                            long v = in.get() & 0xFFL;
                            bits[t * words + (b >>> 3)] |= v << ((b & 7) * 8);
                        }
                    }
                }
            }
            return new TokenSet(storage, dim, Arrays.copyOf(offsets, count + 1), f32, i8, bits, scales);
        }
    }
}
