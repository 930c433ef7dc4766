package io.inflow.jobs.config;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.operators.batch.BatchingOptions;
import io.inflow.operators.batch.ImageBatchingOptions;
import io.inflow.operators.embed.CudaOptions;
import io.inflow.operators.metrics.MetricsOptions;
import io.inflow.operators.runtime.ArrowMemoryOptions;
import io.inflow.jobs.recovery.StateOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.configuration.ReadableConfig;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code inflow.*} configuration keys Inflow reads, so that a mistyped key fails at start instead of being
 * silently ignored. Known keys are every {@link ConfigOption} constant (and its fallback keys) of the classes in
 * {@link #OPTION_CLASSES}, collected by reflection: a new option in one of them is known without editing anything
 * here; a new options class is added to that list. Families passed through by prefix ({@link #PREFIXES}) accept
 * any key below them.
 *
 * <pre>{@code
 * KnownKeys.check(config);
 * // IllegalArgumentException: unknown key inflow.batch.max-record; did you mean inflow.batch.max-records?
 * }</pre>
 */
public final class KnownKeys {

    /** Every class whose public static {@code ConfigOption} fields are Inflow's configuration keys. */
    static final List<Class<?>> OPTION_CLASSES = List.of(PipelineOptions.class, ImageOptions.class,
            BatchingOptions.class, ImageBatchingOptions.class, MetricsOptions.class, KafkaOptions.class,
            ArrowMemoryOptions.class, StateOptions.class, CudaOptions.class, RetrievalOptions.class,
            TopicOptions.class, ScorerOptions.class, SqlSessionOptions.class);

    /** Key families accepted whole: Kafka client properties. */
    static final List<String> PREFIXES = List.of(KafkaOptions.PROPERTIES_PREFIX);

    private static final String NAMESPACE = "inflow.";
    private static final Set<String> KEYS = collect();

    private KnownKeys() {
    }

    /** The known keys, sorted (prefix families not included: see {@link #PREFIXES}). */
    public static Set<String> keys() {
        return KEYS;
    }

    /**
     * Fails on every {@code inflow.*} key of {@code config} that is neither known nor under a prefix family.
     *
     * @throws IllegalArgumentException "unknown key inflow.x.y; did you mean inflow.x.z?", one clause per key
     */
    public static void check(ReadableConfig config) {
        check(config.toMap().keySet());
    }

    static void check(Collection<String> configured) {
        List<String> problems = new ArrayList<>();
        for (String key : new TreeSet<>(configured)) {
            if (key.startsWith(NAMESPACE) && !KEYS.contains(key) && PREFIXES.stream().noneMatch(key::startsWith)) {
                problems.add("unknown key " + key + "; did you mean " + nearest(key) + "?");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems)
                    + " (the inflow.* keys are listed in the README's configuration table)");
        }
    }

    /** The known key with the smallest edit distance to {@code key} (a prefix family counts with key's tail). */
    static String nearest(String key) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        List<String> candidates = new ArrayList<>(KEYS);
        for (String prefix : PREFIXES) {
            String[] parts = key.split("\\.", -1);
            int depth = prefix.split("\\.").length;
            if (parts.length > depth) {
                candidates.add(prefix + String.join(".", List.of(parts).subList(depth, parts.length)));
            }
        }
        for (String candidate : candidates) {
            int d = editDistance(key, candidate);
            if (d < bestDistance || (d == bestDistance && candidate.compareTo(best) < 0)) {
                best = candidate;
                bestDistance = d;
            }
        }
        return best;
    }

    /** Levenshtein distance: insertions, deletions and substitutions of one character each cost 1. */
    static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static Set<String> collect() {
        Set<String> keys = new TreeSet<>();
        for (Class<?> c : OPTION_CLASSES) {
            for (Field f : c.getFields()) {
                if (Modifier.isStatic(f.getModifiers()) && ConfigOption.class.isAssignableFrom(f.getType())) {
                    ConfigOption<?> option;
                    try {
                        option = (ConfigOption<?>) f.get(null);
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException("cannot read " + c.getName() + "." + f.getName(), e);
                    }
                    keys.add(option.key());
                    for (FallbackKey fallback : option.fallbackKeys()) {
                        keys.add(fallback.getKey());
                    }
                }
            }
        }
        return Collections.unmodifiableSet(keys);
    }
}
