package io.inflow.schemas;

import java.util.List;

/** The {@code type} and {@code version} fields every record starts with. */
final class Envelope {
    private Envelope() {
    }

    /**
     * Reads {@code type} (must be one of {@code accepted}) and checks {@code version}.
     *
     * @param expecting how to describe what was expected, for the UNKNOWN_TYPE message
     */
    static String check(JsonFields f, List<String> accepted, String expecting) throws RecordRejectedException {
        String type = f.requiredString("type");
        if (!accepted.contains(type)) {
            boolean known = List.of(WireFormat.TYPE_TEXT, WireFormat.TYPE_IMAGE, WireFormat.TYPE_CORPUS,
                    WireFormat.TYPE_ENRICHED, WireFormat.TYPE_DEAD_LETTER, WireFormat.TYPE_TOPIC_TREE).contains(type);
            throw new RecordRejectedException(ErrorKind.UNKNOWN_TYPE, (known ? "record type '" : "unknown record type '")
                    + shorten(type) + "', " + expecting);
        }
        if (!f.has("version")) {
            throw new RecordRejectedException(ErrorKind.MISSING_FIELD, "field 'version' is missing");
        }
        long version = f.requiredLong("version", Long.MIN_VALUE);
        if (version != WireFormat.VERSION) {
            throw new RecordRejectedException(ErrorKind.UNSUPPORTED_VERSION, "field 'version' is " + version
                    + ", this reader supports version " + WireFormat.VERSION + " of '" + type + "' records");
        }
        return type;
    }

    private static String shorten(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
