package io.inflow.schemas;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * Decodes and validates input records (text, image, corpus) from Kafka value bytes. Thread-safe and
 * {@link Serializable} (it holds only its {@link Limits}), so a Flink deserializer can keep one per task.
 *
 * <p>Checks run in this order, and the first failure decides the {@link ErrorKind}:
 * <ol>
 *   <li>null or empty value: {@code EMPTY_RECORD}</li>
 *   <li>more than {@code maxRecordBytes}: {@code OVERSIZE_RECORD}</li>
 *   <li>not well-formed UTF-8 (message gives the byte offset): {@code INVALID_UTF8}</li>
 *   <li>not exactly one JSON object (syntax error, duplicate key, array, trailing data; message gives Jackson's
 *       line and column): {@code MALFORMED_JSON}; only whitespace: {@code EMPTY_RECORD}</li>
 *   <li>{@code type} absent: {@code MISSING_FIELD}; not accepted here: {@code UNKNOWN_TYPE}</li>
 *   <li>{@code version} other than {@link WireFormat#VERSION}: {@code UNSUPPORTED_VERSION}</li>
 *   <li>a field absent: {@code MISSING_FIELD}; wrong JSON type, null, over a limit or breaking a rule:
 *       {@code INVALID_FIELD}</li>
 * </ol>
 * Unknown extra fields are ignored (forward compatibility, see the module README).
 *
 * <p>{@code
 * InputDecoder decoder = new InputDecoder(Limits.defaults());
 * try {
 *     InputEvent event = decoder.decode(record.value());
 * } catch (RecordRejectedException e) {
 *     // e.kind() and e.getMessage() go to the dead-letter topic
 * }
 * }
 */
public final class InputDecoder implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final List<String> INPUT_TYPES = List.of(WireFormat.TYPE_TEXT, WireFormat.TYPE_IMAGE);

    private final Limits limits;

    public InputDecoder(Limits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    public Limits limits() {
        return limits;
    }

    /** Decodes a text or image event. */
    public InputEvent decode(byte[] value) throws RecordRejectedException {
        JsonFields f = parse(value);
        String type = Envelope.check(f, INPUT_TYPES, "expected one of " + INPUT_TYPES);
        return guard(() -> WireFormat.TYPE_TEXT.equals(type)
                ? TextEventJson.read(f, limits) : ImageEventJson.read(f, limits));
    }

    /** Decodes a text event; any other type is {@code UNKNOWN_TYPE}. */
    public TextEvent decodeText(byte[] value) throws RecordRejectedException {
        JsonFields f = parse(value);
        Envelope.check(f, List.of(WireFormat.TYPE_TEXT), "expected 'text'");
        return guard(() -> TextEventJson.read(f, limits));
    }

    /** Decodes an image event; any other type is {@code UNKNOWN_TYPE}. */
    public ImageEvent decodeImage(byte[] value) throws RecordRejectedException {
        JsonFields f = parse(value);
        Envelope.check(f, List.of(WireFormat.TYPE_IMAGE), "expected 'image'");
        return guard(() -> ImageEventJson.read(f, limits));
    }

    /** Decodes a corpus record; any other type is {@code UNKNOWN_TYPE}. */
    public CorpusRecord decodeCorpus(byte[] value) throws RecordRejectedException {
        JsonFields f = parse(value);
        Envelope.check(f, List.of(WireFormat.TYPE_CORPUS), "expected 'corpus'");
        return guard(() -> CorpusRecordJson.read(f, limits));
    }

    private interface Reader<T> {
        T read() throws RecordRejectedException;
    }

    /** Field checks come first; a record constructor's own check is only a backstop, mapped to INVALID_FIELD. */
    private static <T> T guard(Reader<T> reader) throws RecordRejectedException {
        try {
            return reader.read();
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD, String.valueOf(e.getMessage()), e);
        }
    }

    private JsonFields parse(byte[] value) throws RecordRejectedException {
        ObjectNode root = Json.parseObject(value, limits.maxRecordBytes(), Limits.KEY_MAX_RECORD_BYTES);
        return new JsonFields(root);
    }
}
