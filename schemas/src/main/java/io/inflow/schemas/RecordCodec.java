package io.inflow.schemas;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * Encodes every record to UTF-8 JSON and decodes the output records (enriched, dead-letter, topic-tree).
 * Stateless and thread-safe; one shared Jackson setup.
 *
 * <p>Encoding never applies {@link Limits} (records are checked by their constructors) and omits absent optional
 * fields and empty collections; the dead-letter {@code key_b64}/{@code value_b64} are written as JSON null when
 * absent. Floats are written in the shortest form that parses back to the same float, so embeddings
 * round-trip bit for bit. Output is always valid UTF-8: an unpaired surrogate is written as a JSON escape
 * sequence (which readers then reject).
 *
 * <p>Decoding checks the envelope and every field strictly, like {@link InputDecoder}, and throws
 * {@link RecordRejectedException} (never an unchecked exception) for bad input. Input {@link Limits} are not
 * applied to output records: they were applied when the input was read. Unknown fields are ignored.
 *
 * <p>{@code
 * byte[] wire = RecordCodec.encode(enrichedEvent);
 * EnrichedEvent back = RecordCodec.decodeEnriched(wire);   // equals(enrichedEvent)
 * }
 */
public final class RecordCodec {
    private RecordCodec() {
    }

    public static byte[] encode(TextEvent e) {
        return Json.write(g -> TextEventJson.write(g, e));
    }

    public static byte[] encode(ImageEvent e) {
        return Json.write(g -> ImageEventJson.write(g, e));
    }

    public static byte[] encode(CorpusRecord r) {
        return Json.write(g -> CorpusRecordJson.write(g, r));
    }

    public static byte[] encode(EnrichedEvent e) {
        return Json.write(g -> EnrichedEventJson.write(g, e));
    }

    public static byte[] encode(DeadLetterRecord r) {
        return Json.write(g -> DeadLetterJson.write(g, r));
    }

    public static byte[] encode(TopicTreeRecord r) {
        return Json.write(g -> TopicTreeJson.write(g, r));
    }

    public static EnrichedEvent decodeEnriched(byte[] value) throws RecordRejectedException {
        JsonFields f = parse(value, WireFormat.TYPE_ENRICHED);
        return build(() -> EnrichedEventJson.read(f));
    }

    public static DeadLetterRecord decodeDeadLetter(byte[] value) throws RecordRejectedException {
        ObjectNode root = Json.parseObject(value, Integer.MAX_VALUE, "none");
        JsonFields f = new JsonFields(root);
        Envelope.check(f, List.of(WireFormat.TYPE_DEAD_LETTER), "expected 'dead_letter'");
        return build(() -> DeadLetterJson.read(f, root));
    }

    public static TopicTreeRecord decodeTopicTree(byte[] value) throws RecordRejectedException {
        JsonFields f = parse(value, WireFormat.TYPE_TOPIC_TREE);
        return build(() -> TopicTreeJson.read(f));
    }

    private static JsonFields parse(byte[] value, String type) throws RecordRejectedException {
        JsonFields f = new JsonFields(Json.parseObject(value, Integer.MAX_VALUE, "none"));
        Envelope.check(f, List.of(type), "expected '" + type + "'");
        return f;
    }

    private interface Reader<T> {
        T read() throws RecordRejectedException;
    }

    /** Field checks come first; a record constructor's own check is the backstop and maps to INVALID_FIELD. */
    private static <T> T build(Reader<T> reader) throws RecordRejectedException {
        try {
            return reader.read();
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD, e.getMessage(), e);
        }
    }
}
