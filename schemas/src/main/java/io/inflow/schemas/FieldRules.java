package io.inflow.schemas;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * Value rules of the input records (the same rules the JSON Schema files state, plus the ones a schema cannot
 * state: UTF-8 byte lengths, decoded base64 length, unpaired surrogates). Each throws
 * {@link ErrorKind#INVALID_FIELD} with the field, the value or size, and the limit.
 */
final class FieldRules {
    static final int MAX_ATTRIBUTE_KEY_LENGTH = 128;
    static final int MAX_ATTRIBUTE_VALUE_LENGTH = 1024;
    static final int MAX_LANG_LENGTH = 35;
    static final int MAX_CONTENT_TYPE_LENGTH = 127;
    static final int MAX_URI_LENGTH = 4096;

    private static final Pattern LANG = Pattern.compile("[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*");
    private static final Pattern CONTENT_TYPE =
            Pattern.compile("[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*");

    private FieldRules() {
    }

    private static RecordRejectedException invalid(String message) {
        return new RecordRejectedException(ErrorKind.INVALID_FIELD, message);
    }

    /** id / doc_id: 1..maxIdLength code points, no control characters, well-formed. */
    static String id(String field, String value, Limits limits) throws RecordRejectedException {
        if (value.isEmpty()) {
            throw invalid("field '" + field + "' is empty, must be 1 to " + limits.maxIdLength() + " characters");
        }
        wellFormed(field, value);
        int length = value.codePointCount(0, value.length());
        if (length > limits.maxIdLength()) {
            throw invalid("field '" + field + "' is " + length + " characters, limit is " + limits.maxIdLength()
                    + " (" + Limits.KEY_MAX_ID_LENGTH + ")");
        }
        noControl(field, value);
        return value;
    }

    /** text: at least one visible character, UTF-8 length within maxTextBytes, well-formed. */
    static String text(String field, String value, Limits limits) throws RecordRejectedException {
        long bytes = wellFormed(field, value);
        if (bytes > limits.maxTextBytes()) {
            throw invalid("field '" + field + "' is " + bytes + " bytes, limit is " + limits.maxTextBytes()
                    + " (" + Limits.KEY_MAX_TEXT_BYTES + ")");
        }
        if (value.codePoints().allMatch(cp -> Character.isWhitespace(cp) || Character.isSpaceChar(cp))) {
            throw invalid("field '" + field + "' is " + (value.isEmpty() ? "empty" : "only whitespace")
                    + ", must contain text");
        }
        if (value.codePoints().allMatch(FieldRules::invisible)) {
            int first = value.codePoints().filter(cp -> !Character.isWhitespace(cp) && !Character.isSpaceChar(cp))
                    .findFirst().orElseThrow();
            throw invalid("field '" + field + "' has no visible character (only whitespace, control and format"
                    + " characters such as U+" + String.format("%04X", first) + "), must contain text");
        }
        return value;
    }

    /**
     * Whitespace, separators, control characters (Cc: U+0000 to U+001F, U+007F to U+009F) and format characters
     * (Cf: zero-width space and joiners, byte order mark, bidi marks): nothing a tokenizer or a reader sees.
     */
    private static boolean invisible(int cp) {
        int type = Character.getType(cp);
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || type == Character.CONTROL
                || type == Character.FORMAT;
    }

    static String lang(String value) throws RecordRejectedException {
        if (value != null && (value.length() > MAX_LANG_LENGTH || !LANG.matcher(value).matches())) {
            throw invalid("field 'lang' is '" + shorten(value) + "', must be a BCP-47 language tag such as 'en' or"
                    + " 'pt-BR' of at most " + MAX_LANG_LENGTH + " characters");
        }
        return value;
    }

    static String contentType(String value) throws RecordRejectedException {
        if (value != null && (value.length() > MAX_CONTENT_TYPE_LENGTH || !CONTENT_TYPE.matcher(value).matches())) {
            throw invalid("field 'content_type' is '" + shorten(value) + "', must be a media type such as"
                    + " 'image/png' of at most " + MAX_CONTENT_TYPE_LENGTH + " characters");
        }
        return value;
    }

    static String imageUri(String value) throws RecordRejectedException {
        if (!value.startsWith("file:") || value.length() == "file:".length()) {
            throw invalid("field 'image_uri' is '" + shorten(value) + "', must be a file: URI");
        }
        if (value.length() > MAX_URI_LENGTH) {
            throw invalid("field 'image_uri' is " + value.length() + " characters, limit is " + MAX_URI_LENGTH);
        }
        wellFormed("image_uri", value);
        noControl("image_uri", value);
        return value;
    }

    /** model (of a precomputed embedding): 1..{@link CorpusRecord#MAX_MODEL_LENGTH} characters, no control. */
    static String modelName(String value) throws RecordRejectedException {
        if (value.isEmpty()) {
            throw invalid("field 'model' is empty, must name the model that made the embedding");
        }
        wellFormed("model", value);
        int length = value.codePointCount(0, value.length());
        if (length > CorpusRecord.MAX_MODEL_LENGTH) {
            throw invalid("field 'model' is " + length + " characters, limit is " + CorpusRecord.MAX_MODEL_LENGTH);
        }
        noControl("model", value);
        return value;
    }

    /**
     * embedding (of a corpus upsert): a JSON array of 1..{@link CorpusRecord#MAX_EMBEDDING_VALUES} numbers, each
     * within the float range (a value that parses to an infinity is rejected; JSON has no NaN or Infinity).
     */
    static float[] embedding(String field, com.fasterxml.jackson.databind.node.ArrayNode array)
            throws RecordRejectedException {
        if (array.isEmpty() || array.size() > CorpusRecord.MAX_EMBEDDING_VALUES) {
            throw invalid("field '" + field + "' has " + array.size() + " values, must have 1 to "
                    + CorpusRecord.MAX_EMBEDDING_VALUES);
        }
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            com.fasterxml.jackson.databind.JsonNode v = array.get(i);
            if (!v.isNumber()) {
                throw invalid("field '" + field + "[" + i + "]' must be a number, got " + JsonFields.typeName(v));
            }
            out[i] = Float.parseFloat(v.asText()); // the decimal text parsed once: exact round trip
            if (!Float.isFinite(out[i])) {
                throw invalid("field '" + field + "[" + i + "]' is " + shorten(v.asText())
                        + ", outside the float range (largest magnitude " + Float.MAX_VALUE + ")");
            }
        }
        return out;
    }

    /** Standard padded base64 whose decoded length is 1..maxBytes. */
    static String base64(String field, String value, int maxBytes, String limitKey) throws RecordRejectedException {
        int decoded = Base64Text.decodedLength(value);
        if (decoded > maxBytes) {
            throw invalid("field '" + field + "' decodes to " + decoded + " bytes, limit is " + maxBytes
                    + (limitKey == null ? "" : " (" + limitKey + ")"));
        }
        String problem = Base64Text.problem(value);
        if (problem != null) {
            throw invalid("field '" + field + "' is not valid base64: " + problem);
        }
        if (decoded == 0) {
            throw invalid("field '" + field + "' is empty, must hold at least one byte");
        }
        return value;
    }

    static Map<String, String> attributes(Map<String, String> attributes, Limits limits)
            throws RecordRejectedException {
        if (attributes.size() > limits.maxAttributes()) {
            throw invalid("field 'attributes' has " + attributes.size() + " entries, limit is "
                    + limits.maxAttributes() + " (" + Limits.KEY_MAX_ATTRIBUTES + ")");
        }
        for (Map.Entry<String, String> e : attributes.entrySet()) {
            String key = e.getKey();
            wellFormed("attributes key", key);
            int keyLength = key.codePointCount(0, key.length());
            if (keyLength == 0 || keyLength > MAX_ATTRIBUTE_KEY_LENGTH) {
                throw invalid("attribute key '" + shorten(key) + "' is " + keyLength + " characters, must be 1 to "
                        + MAX_ATTRIBUTE_KEY_LENGTH);
            }
            String value = e.getValue();
            wellFormed("attributes." + key, value);
            int valueLength = value.codePointCount(0, value.length());
            if (valueLength > MAX_ATTRIBUTE_VALUE_LENGTH) {
                throw invalid("field 'attributes." + shorten(key) + "' is " + valueLength + " characters, limit is "
                        + MAX_ATTRIBUTE_VALUE_LENGTH);
            }
        }
        return attributes;
    }

    /** Rejects unpaired surrogates (legal in a JSON escape, not encodable as UTF-8); returns the UTF-8 length. */
    static long wellFormed(String field, String value) throws RecordRejectedException {
        long bytes = Utf8.encodedLength(value);
        if (bytes < 0) {
            throw invalid("field '" + field + "' has an unpaired surrogate at char index " + (-1 - bytes));
        }
        return bytes;
    }

    private static void noControl(String field, String value) throws RecordRejectedException {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c)) {
                throw invalid("field '" + field + "' has control character U+" + String.format("%04X", (int) c)
                        + " at index " + i);
            }
        }
    }

    private static String shorten(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
