package io.inflow.schemas;

import java.io.Serializable;
import java.util.Objects;

/**
 * The model that produced an output: a name and a version string, both non-empty.
 * On the wire: {@code "model":{"name":"all-minilm-l6-v2","version":"1.20.0-beta30"}}.
 *
 * <p>{@code
 * ModelRef model = new ModelRef("all-minilm-l6-v2", "1.20.0-beta30");
 * }
 */
public record ModelRef(String name, String version) implements Serializable {
    public ModelRef {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        if (name.isEmpty() || version.isEmpty()) {
            throw new IllegalArgumentException("model name and version must not be empty");
        }
    }
}
