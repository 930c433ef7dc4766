package io.inflow.gpu.model.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One ONNX {@code TensorProto} (an initializer or a Constant's value): name, dims, data type and the
 * data, kept as a slice of the model bytes until asked for as floats or longs.
 *
 * <p>{@code float[] w = model.initializer("embeddings.word_embeddings.weight").toFloatArray();}
 */
public final class OnnxTensor {
    /** ONNX {@code TensorProto.DataType} codes this reader understands. */
    public static final int FLOAT = 1;
    public static final int INT32 = 6;
    public static final int INT64 = 7;
    public static final int FLOAT16 = 10;
    public static final int DOUBLE = 11;

    private final String name;
    private final long[] dims;
    private final int dataType;
    private final byte[] raw;           // model bytes; raw_data lives at [rawOffset, rawOffset + rawLength)
    private final int rawOffset;
    private final int rawLength;
    private final float[] floatData;    // float_data when raw_data is absent
    private final long[] longData;      // int64_data / int32_data when raw_data is absent

    OnnxTensor(String name, long[] dims, int dataType, byte[] raw, int rawOffset, int rawLength,
               float[] floatData, long[] longData) {
        this.name = name;
        this.dims = dims;
        this.dataType = dataType;
        this.raw = raw;
        this.rawOffset = rawOffset;
        this.rawLength = rawLength;
        this.floatData = floatData;
        this.longData = longData;
    }

    /** Parses a {@code TensorProto}: dims = 1, data_type = 2, float_data = 4, int32_data = 5, int64_data = 7, name = 8, raw_data = 9. */
    static OnnxTensor parse(ProtoReader r) {
        String name = "";
        LongList dims = new LongList();
        int dataType = 0;
        int rawOffset = -1;
        int rawLength = 0;
        FloatList floats = new FloatList();
        LongList longs = new LongList();
        while (r.hasMore()) {
            int tag = r.readTag();
            int wt = ProtoReader.wireType(tag);
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> readLongs(r, wt, dims);
                case 2 -> dataType = (int) r.readVarint();
                case 4 -> {
                    if (wt == ProtoReader.LENGTH_DELIMITED) {
                        ProtoReader p = r.readMessage();
                        while (p.hasMore()) {
                            floats.add(p.readFloat());
                        }
                    } else {
                        floats.add(r.readFloat());
                    }
                }
                case 5, 7 -> readLongs(r, wt, longs);
                case 8 -> name = r.readString();
                case 9 -> {
                    int[] s = r.readSlice();
                    rawOffset = s[0];
                    rawLength = s[1];
                }
                case 14 -> {
                    long location = r.readVarint();
                    if (location != 0) {
                        throw new IllegalStateException("tensor " + name + " uses external data, which is not supported");
                    }
                }
                default -> r.skip(tag);
            }
        }
        return new OnnxTensor(name, dims.toArray(), dataType, rawOffset < 0 ? null : r.buffer(), rawOffset, rawLength,
                floats.size() == 0 ? null : floats.toArray(), longs.size() == 0 ? null : longs.toArray());
    }

    private static void readLongs(ProtoReader r, int wireType, LongList out) {
        if (wireType == ProtoReader.LENGTH_DELIMITED) {
            ProtoReader p = r.readMessage();
            while (p.hasMore()) {
                out.add(p.readVarint());
            }
        } else {
            out.add(r.readVarint());
        }
    }

    public String name() {
        return name;
    }

    public long[] dims() {
        return dims.clone();
    }

    /** Dims as ints (every ONNX weight we load fits). */
    public int[] shape() {
        int[] s = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            s[i] = Math.toIntExact(dims[i]);
        }
        return s;
    }

    public int dataType() {
        return dataType;
    }

    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** The values as float32 (FLOAT, FLOAT16, DOUBLE, INT32 and INT64 are converted). */
    public float[] toFloatArray() {
        int n = Math.toIntExact(elementCount());
        float[] out = new float[n];
        if (raw != null) {
            ByteBuffer bb = ByteBuffer.wrap(raw, rawOffset, rawLength).slice().order(ByteOrder.LITTLE_ENDIAN);
            requireRawBytes(n);
            for (int i = 0; i < n; i++) {
                out[i] = switch (dataType) {
                    case FLOAT -> bb.getFloat(4 * i);
                    case FLOAT16 -> io.inflow.gpu.tensor.HalfFloats.f16ToFloat(bb.getShort(2 * i));
                    case DOUBLE -> (float) bb.getDouble(8 * i);
                    case INT32 -> bb.getInt(4 * i);
                    case INT64 -> bb.getLong(8 * i);
                    default -> throw unsupported();
                };
            }
        } else if (floatData != null) {
            System.arraycopy(floatData, 0, out, 0, Math.min(n, floatData.length));
        } else if (longData != null) {
            for (int i = 0; i < n; i++) {
                out[i] = longData[i];
            }
        } else if (n > 0) {
            throw new IllegalStateException("tensor " + name + " has no data");
        }
        return out;
    }

    /** The values as longs (INT64 and INT32 tensors). */
    public long[] toLongArray() {
        int n = Math.toIntExact(elementCount());
        if (raw == null) {
            return longData == null ? new long[n] : longData.clone();
        }
        ByteBuffer bb = ByteBuffer.wrap(raw, rawOffset, rawLength).slice().order(ByteOrder.LITTLE_ENDIAN);
        requireRawBytes(n);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (dataType) {
                case INT64 -> bb.getLong(8 * i);
                case INT32 -> bb.getInt(4 * i);
                default -> throw unsupported();
            };
        }
        return out;
    }

    private void requireRawBytes(int n) {
        int width = switch (dataType) {
            case FLOAT, INT32 -> 4;
            case FLOAT16 -> 2;
            case DOUBLE, INT64 -> 8;
            default -> throw unsupported();
        };
        if ((long) width * n != rawLength) {
            throw new IllegalStateException("tensor " + name + " " + Arrays.toString(dims) + " has " + rawLength
                    + " raw bytes, expected " + (long) width * n);
        }
    }

    private IllegalStateException unsupported() {
        return new IllegalStateException("tensor " + name + " has unsupported ONNX data type " + dataType);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(dims) + " type " + dataType;
    }

    /** Growable primitive lists, to avoid boxing while parsing packed fields. */
    static final class LongList {
        private long[] a = new long[8];
        private int n;

        void add(long v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, 2 * n);
            }
            a[n++] = v;
        }

        int size() {
            return n;
        }

        long[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }

    static final class FloatList {
        private float[] a = new float[8];
        private int n;

        void add(float v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, 2 * n);
            }
            a[n++] = v;
        }

        int size() {
            return n;
        }

        float[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
