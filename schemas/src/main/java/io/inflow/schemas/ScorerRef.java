package io.inflow.schemas;

import java.io.Serializable;
import java.util.Objects;
import java.util.Set;

/**
 * The scorer model whose class probabilities an enriched event carries in {@code scores}: its name, its version and
 * the precision its encoder ran at ({@value #FLOAT32}, {@value #INT8} integer-only, or {@value #MIXED} INT4/INT8
 * layers). On the wire: {@code "scorer":{"name":"spam-ham-minilm","version":"1","precision":"int8"}}.
 *
 * <p>{@code ScorerRef ref = new ScorerRef("spam-ham-minilm", "1", ScorerRef.INT8);}
 */
public record ScorerRef(String name, String version, String precision) implements Serializable {
    public static final String FLOAT32 = "float32";
    public static final String INT8 = "int8";
    public static final String MIXED = "mixed";
    /** The precisions a scorer runs at. */
    public static final Set<String> PRECISIONS = Set.of(FLOAT32, INT8, MIXED);

    public ScorerRef {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(precision, "precision");
        if (name.isEmpty() || version.isEmpty()) {
            throw new IllegalArgumentException("scorer name and version must not be empty");
        }
        if (!PRECISIONS.contains(precision)) {
            throw new IllegalArgumentException("scorer precision is '" + precision + "', must be one of "
                    + "float32, int8, mixed");
        }
    }
}
