package io.inflow.schemas;

/** Checks standard, padded base64 (RFC 4648 section 4) without decoding it. */
final class Base64Text {
    private Base64Text() {
    }

    /** Decoded byte length of padded standard base64, or -1 if the length or padding is impossible. */
    static int decodedLength(String s) {
        int n = s.length();
        if (n % 4 != 0) {
            return -1;
        }
        int pad = n > 0 && s.charAt(n - 1) == '=' ? (n > 1 && s.charAt(n - 2) == '=' ? 2 : 1) : 0;
        return n / 4 * 3 - pad;
    }

    /** Null when {@code s} is padded standard base64, else what is wrong with it. */
    static String problem(String s) {
        int n = s.length();
        if (n % 4 != 0) {
            return "length " + n + " is not a multiple of 4 (standard base64 with padding expected)";
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            boolean alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '+' || c == '/';
            boolean padding = c == '=' && i >= n - 2 && (i == n - 1 || s.charAt(n - 1) == '=');
            if (!alphabet && !padding) {
                return "character " + describe(c) + " at index " + i + " is not standard base64";
            }
        }
        return null;
    }

    private static String describe(char c) {
        return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }
}
