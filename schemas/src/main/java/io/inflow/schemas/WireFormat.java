package io.inflow.schemas;

/**
 * Constants of the wire contract: the current major version and the {@code type} value of each record.
 *
 * <p>{@code
 * if (WireFormat.TYPE_TEXT.equals(type) && version == WireFormat.VERSION) { ... }
 * }
 */
public final class WireFormat {
    /** The major version every record carries in {@code version}; readers reject any other. */
    public static final int VERSION = 1;

    public static final String TYPE_TEXT = "text";
    public static final String TYPE_IMAGE = "image";
    public static final String TYPE_CORPUS = "corpus";
    public static final String TYPE_ENRICHED = "enriched";
    public static final String TYPE_DEAD_LETTER = "dead_letter";
    public static final String TYPE_TOPIC_TREE = "topic_tree";

    private WireFormat() {
    }
}
