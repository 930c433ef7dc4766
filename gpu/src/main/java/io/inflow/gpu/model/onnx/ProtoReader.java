package io.inflow.gpu.model.onnx;

import java.nio.charset.StandardCharsets;

/**
 * A minimal protocol-buffers wire-format reader over a byte array: enough to walk ONNX messages field by
 * field without a protobuf library. Length-delimited fields are returned as sub-readers over the same
 * array (no copy).
 *
 * <pre>{@code
 * ProtoReader r = new ProtoReader(bytes, 0, bytes.length);
 * while (r.hasMore()) {
 *     int tag = r.readTag();
 *     switch (ProtoReader.fieldNumber(tag)) {
 *         case 7 -> graph = r.readMessage();
 *         default -> r.skip(tag);
 *     }
 * }
 * }</pre>
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final byte[] buf;
    private final int end;
    private int pos;

    ProtoReader(byte[] buf, int offset, int end) {
        this.buf = buf;
        this.pos = offset;
        this.end = end;
    }

    static int fieldNumber(int tag) {
        return tag >>> 3;
    }

    static int wireType(int tag) {
        return tag & 7;
    }

    boolean hasMore() {
        return pos < end;
    }

    int position() {
        return pos;
    }

    byte[] buffer() {
        return buf;
    }

    int readTag() {
        return (int) readVarint();
    }

    long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw new IllegalStateException("truncated varint at byte " + pos);
            }
            byte b = buf[pos++];
            result |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new IllegalStateException("malformed varint at byte " + pos);
    }

    int readFixed32() {
        require(4);
        int v = (buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8 | (buf[pos + 2] & 0xff) << 16 | (buf[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    long readFixed64() {
        long lo = readFixed32() & 0xffffffffL;
        long hi = readFixed32() & 0xffffffffL;
        return lo | hi << 32;
    }

    float readFloat() {
        return Float.intBitsToFloat(readFixed32());
    }

    /** Reads a length prefix and returns {@code [start, length]} of the payload, advancing past it. */
    int[] readSlice() {
        int len = Math.toIntExact(readVarint());
        require(len);
        int start = pos;
        pos += len;
        return new int[] {start, len};
    }

    ProtoReader readMessage() {
        int[] s = readSlice();
        return new ProtoReader(buf, s[0], s[0] + s[1]);
    }

    String readString() {
        int[] s = readSlice();
        return new String(buf, s[0], s[1], StandardCharsets.UTF_8);
    }

    void skip(int tag) {
        switch (wireType(tag)) {
            case VARINT -> readVarint();
            case FIXED64 -> { require(8); pos += 8; }
            case LENGTH_DELIMITED -> readSlice();
            case FIXED32 -> { require(4); pos += 4; }
            default -> throw new IllegalStateException("unsupported wire type " + wireType(tag) + " at byte " + pos);
        }
    }

    private void require(int n) {
        if (n < 0 || pos + n > end) {
            throw new IllegalStateException("truncated message: need " + n + " bytes at " + pos + ", end " + end);
        }
    }
}
