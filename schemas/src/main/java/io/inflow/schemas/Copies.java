package io.inflow.schemas;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Defensive copies for record components: never null, unmodifiable, order kept (so encoding is deterministic). */
final class Copies {
    private Copies() {
    }

    static Map<String, String> attributes(Map<String, String> attributes) {
        if (attributes == null || attributes.isEmpty()) {
            return Map.of();
        }
        Map<String, String> copy = new LinkedHashMap<>(attributes.size() * 2);
        for (Map.Entry<String, String> e : attributes.entrySet()) {
            copy.put(Objects.requireNonNull(e.getKey(), "attribute key"),
                    Objects.requireNonNull(e.getValue(), () -> "attribute '" + e.getKey() + "' value"));
        }
        return Collections.unmodifiableMap(copy);
    }

    static <T> List<T> list(List<T> list) {
        return list == null ? List.of() : List.copyOf(list);
    }

    static String requireNonEmpty(String value, String field) {
        Objects.requireNonNull(value, field);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(field + " must not be empty");
        }
        return value;
    }

    static void requireNonNegative(long value, String field) {
        if (value < 0) {
            throw new IllegalArgumentException(field + " must be >= 0 (got " + value + ")");
        }
    }
}
