package io.inflow.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed, strict access to the fields of one JSON object. Nothing is coerced: a number where a string is expected,
 * {@code 1.0} where an integer is expected or {@code null} anywhere is {@link ErrorKind#INVALID_FIELD}; an absent
 * required field is {@link ErrorKind#MISSING_FIELD}. Messages name the field by its dotted path.
 */
final class JsonFields {
    private final ObjectNode node;
    private final String prefix;

    JsonFields(ObjectNode node) {
        this(node, "");
    }

    private JsonFields(ObjectNode node, String prefix) {
        this.node = node;
        this.prefix = prefix;
    }

    String path(String name) {
        return prefix + name;
    }

    boolean has(String name) {
        return node.has(name);
    }

    /** The names of this object's fields, in wire order. */
    List<String> names() {
        List<String> out = new ArrayList<>(node.size());
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private JsonNode required(String name) throws RecordRejectedException {
        JsonNode v = node.get(name);
        if (v == null) {
            throw new RecordRejectedException(ErrorKind.MISSING_FIELD, "field '" + path(name) + "' is missing");
        }
        return v;
    }

    private RecordRejectedException wrongType(String name, String expected, JsonNode got) {
        return new RecordRejectedException(ErrorKind.INVALID_FIELD,
                "field '" + path(name) + "' must be " + expected + ", got " + describe(got));
    }

    String requiredString(String name) throws RecordRejectedException {
        return string(name, required(name));
    }

    String requiredNonEmptyString(String name) throws RecordRejectedException {
        String s = requiredString(name);
        if (s.isEmpty()) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD, "field '" + path(name) + "' must not be empty");
        }
        return s;
    }

    String optionalString(String name) throws RecordRejectedException {
        JsonNode v = node.get(name);
        return v == null ? null : string(name, v);
    }

    private String string(String name, JsonNode v) throws RecordRejectedException {
        if (!v.isTextual()) {
            throw wrongType(name, "a string", v);
        }
        return v.textValue();
    }

    long requiredLong(String name, long min) throws RecordRejectedException {
        return integral(name, required(name), min, Long.MAX_VALUE);
    }

    Long optionalLong(String name, long min) throws RecordRejectedException {
        JsonNode v = node.get(name);
        return v == null ? null : integral(name, v, min, Long.MAX_VALUE);
    }

    int requiredInt(String name, int min) throws RecordRejectedException {
        return (int) integral(name, required(name), min, Integer.MAX_VALUE);
    }

    Integer optionalInt(String name, int min) throws RecordRejectedException {
        JsonNode v = node.get(name);
        return v == null ? null : (int) integral(name, v, min, Integer.MAX_VALUE);
    }

    private long integral(String name, JsonNode v, long min, long max) throws RecordRejectedException {
        if (!v.isIntegralNumber()) {
            throw wrongType(name, "an integer", v);
        }
        if (!v.canConvertToLong() || v.longValue() < min || v.longValue() > max) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD, "field '" + path(name) + "' is " + v.asText()
                    + ", must be between " + min + " and " + max);
        }
        return v.longValue();
    }

    double requiredFiniteDouble(String name, double min) throws RecordRejectedException {
        JsonNode v = required(name);
        if (!v.isNumber()) {
            throw wrongType(name, "a number", v);
        }
        double d = Double.parseDouble(v.asText());
        if (!Double.isFinite(d) || d < min) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                    "field '" + path(name) + "' is " + v.asText() + ", must be a finite number >= " + min);
        }
        return d;
    }

    /** A finite number in [min, max], or null when absent. */
    Double optionalFiniteDouble(String name, double min, double max) throws RecordRejectedException {
        JsonNode v = node.get(name);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw wrongType(name, "a number", v);
        }
        double d = Double.parseDouble(v.asText());
        if (!(d >= min && d <= max)) { // an overflow to infinity fails too
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                    "field '" + path(name) + "' is " + v.asText() + ", must be a finite number in [" + min + ", "
                            + max + "]");
        }
        return d;
    }

    boolean requiredBoolean(String name) throws RecordRejectedException {
        return bool(name, required(name));
    }

    /** The boolean, or null when absent. */
    Boolean optionalBoolean(String name) throws RecordRejectedException {
        JsonNode v = node.get(name);
        return v == null ? null : bool(name, v);
    }

    private boolean bool(String name, JsonNode v) throws RecordRejectedException {
        if (!v.isBoolean()) {
            throw wrongType(name, "a boolean", v);
        }
        return v.booleanValue();
    }

    JsonFields requiredObject(String name) throws RecordRejectedException {
        JsonNode v = required(name);
        if (!v.isObject()) {
            throw wrongType(name, "an object", v);
        }
        return new JsonFields((ObjectNode) v, path(name) + ".");
    }

    /** The object, or null when absent. */
    JsonFields optionalObject(String name) throws RecordRejectedException {
        return node.has(name) ? requiredObject(name) : null;
    }

    /** The array, or null when absent. */
    ArrayNode optionalArray(String name) throws RecordRejectedException {
        JsonNode v = node.get(name);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            throw wrongType(name, "an array", v);
        }
        return (ArrayNode) v;
    }

    ArrayNode requiredArray(String name) throws RecordRejectedException {
        required(name);
        return optionalArray(name);
    }

    /** Element {@code i} of array {@code name} as an object. */
    JsonFields element(String name, ArrayNode array, int i) throws RecordRejectedException {
        JsonNode v = array.get(i);
        if (!v.isObject()) {
            throw wrongType(name + "[" + i + "]", "an object", v);
        }
        return new JsonFields((ObjectNode) v, path(name) + "[" + i + "].");
    }

    /** Array {@code name} of strings; empty list when absent. */
    List<String> stringList(String name, ArrayNode array) throws RecordRejectedException {
        if (array == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonNode v = array.get(i);
            if (!v.isTextual()) {
                throw wrongType(name + "[" + i + "]", "a string", v);
            }
            out.add(v.textValue());
        }
        return out;
    }

    /** Array {@code name} of integers in [min, Integer.MAX_VALUE]; empty list when absent. */
    List<Integer> intList(String name, ArrayNode array, int min) throws RecordRejectedException {
        if (array == null) {
            return List.of();
        }
        List<Integer> out = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            out.add((int) integral(name + "[" + i + "]", array.get(i), min, Integer.MAX_VALUE));
        }
        return out;
    }

    /** Object {@code name} of string values, in wire order; empty map when absent. */
    Map<String, String> stringMap(String name) throws RecordRejectedException {
        JsonNode v = node.get(name);
        if (v == null) {
            return Map.of();
        }
        if (!v.isObject()) {
            throw wrongType(name, "an object of strings", v);
        }
        Map<String, String> out = new LinkedHashMap<>(v.size() * 2);
        for (Map.Entry<String, JsonNode> e : v.properties()) {
            if (!e.getValue().isTextual()) {
                throw wrongType(name + "." + e.getKey(), "a string", e.getValue());
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return out;
    }

    static String typeName(JsonNode v) {
        return switch (v.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT, POJO -> "an object";
            case STRING -> "a string";
            case NUMBER -> v.isIntegralNumber() ? "an integer" : "a decimal number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static String describe(JsonNode v) {
        if (v.isValueNode() && !v.isNull()) {
            String text = v.isTextual() ? '"' + v.textValue() + '"' : v.asText();
            return typeName(v) + " (" + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + ")";
        }
        return typeName(v);
    }
}
