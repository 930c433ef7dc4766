package io.inflow.schemas;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict UTF-8 decoding (offset of the first bad byte) and UTF-8 length of a string. */
final class Utf8 {
    private Utf8() {
    }

    /** Decodes strictly; a CharsetDecoder is not thread-safe, so each call makes its own (cheap). */
    static CharBuffer decode(byte[] bytes) throws RecordRejectedException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length); // UTF-8 never needs more chars than bytes
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            int at = in.position();
            throw new RecordRejectedException(ErrorKind.INVALID_UTF8,
                    "invalid UTF-8 at byte offset " + at + ": " + hex(bytes, at, result.length()));
        }
        return out.flip();
    }

    private static String hex(byte[] bytes, int from, int length) {
        StringBuilder sb = new StringBuilder();
        int end = Math.min(bytes.length, from + Math.max(length, 1) + 1); // the bad bytes and one more for context
        for (int i = from; i < end; i++) {
            sb.append(sb.length() == 0 ? "" : " ").append(String.format("0x%02X", bytes[i] & 0xff));
        }
        return sb.toString();
    }

    /** Length in UTF-8 bytes, or -1 - index if the string holds an unpaired surrogate at that index. */
    static long encodedLength(String s) {
        long bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                return -1 - i;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /** {@code s} with every unpaired surrogate replaced by U+FFFD, so it can be written as UTF-8 (itself if none). */
    static String withoutUnpairedSurrogates(String s) {
        if (encodedLength(s) >= 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                sb.append(c).append(s.charAt(++i));
            } else {
                sb.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return sb.toString();
    }
}
