package io.inflow.gpu.text;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A read-only map from ASCII strings to token ids, looked up by a byte range without building a string: open
 * addressing over one packed byte array. {@link AsciiWordPiece} probes it for every candidate piece.
 *
 * <p>{@code AsciiVocab v = new AsciiVocab.Builder().put("food", 2833).build(); v.get(bytes, 0, 4) == 2833}
 */
final class AsciiVocab {

    private final int[] slotStart; // -1: empty slot
    private final byte[] slotLength;
    private final int[] slotId;
    private final byte[] keys;
    private final int mask;
    private final int maxKeyLength;

    private AsciiVocab(int[] slotStart, byte[] slotLength, int[] slotId, byte[] keys, int maxKeyLength) {
        this.slotStart = slotStart;
        this.slotLength = slotLength;
        this.slotId = slotId;
        this.keys = keys;
        this.mask = slotStart.length - 1;
        this.maxKeyLength = maxKeyLength;
    }

    /** The longest key; no longer piece can match. */
    int maxKeyLength() {
        return maxKeyLength;
    }

    /** The id of {@code bytes[from, to)}, or -1. */
    int get(byte[] bytes, int from, int to) {
        int len = to - from;
        if (len > maxKeyLength) {
            return -1;
        }
        int slot = hash(bytes, from, to) & mask;
        while (true) {
            int start = slotStart[slot];
            if (start < 0) {
                return -1;
            }
            if (slotLength[slot] == len && equal(start, bytes, from, len)) {
                return slotId[slot];
            }
            slot = (slot + 1) & mask;
        }
    }

    private boolean equal(int start, byte[] bytes, int from, int len) {
        for (int i = 0; i < len; i++) {
            if (keys[start + i] != bytes[from + i]) {
                return false;
            }
        }
        return true;
    }

    private static int hash(byte[] b, int from, int to) {
        int h = 0x811c9dc5;
        for (int i = from; i < to; i++) {
            h = (h ^ b[i]) * 0x01000193;
        }
        return h ^ (h >>> 15);
    }

    /** Collects the entries; keys of more than 127 bytes are not kept (no vocabulary piece is that long). */
    static final class Builder {
        private final List<byte[]> keys = new ArrayList<>();
        private final List<Integer> ids = new ArrayList<>();

        Builder put(String key, int id) {
            byte[] k = key.getBytes(StandardCharsets.US_ASCII);
            if (k.length > 0 && k.length <= Byte.MAX_VALUE) {
                keys.add(k);
                ids.add(id);
            }
            return this;
        }

        AsciiVocab build() {
            int size = Integer.highestOneBit(Math.max(4, keys.size() * 2)) << 1; // load factor below 1/2
            int[] slotStart = new int[size];
            java.util.Arrays.fill(slotStart, -1);
            byte[] slotLength = new byte[size];
            int[] slotId = new int[size];
            int total = keys.stream().mapToInt(k -> k.length).sum();
            byte[] packed = new byte[total];
            int at = 0;
            int maxLen = 0;
            for (int e = 0; e < keys.size(); e++) {
                byte[] k = keys.get(e);
                int slot = hash(k, 0, k.length) & (size - 1);
                while (slotStart[slot] >= 0) {
                    slot = (slot + 1) & (size - 1);
                }
                System.arraycopy(k, 0, packed, at, k.length);
                slotStart[slot] = at;
                slotLength[slot] = (byte) k.length;
                slotId[slot] = ids.get(e);
                at += k.length;
                maxLen = Math.max(maxLen, k.length);
            }
            return new AsciiVocab(slotStart, slotLength, slotId, packed, maxLen);
        }
    }
}
