package io.inflow.operators.embed;

import io.inflow.gpu.resources.ProcessResources;

/**
 * One encoder per spec per task-manager process, shared by all slots that run it: weights are loaded once, and one
 * fair queue ({@link SharedModel}) runs the batches of all slots on one set of kernel threads (or one GPU context)
 * instead of oversubscribing the cores. Held through the process's {@link ProcessResources}: the last lease closes it. Specs
 * are compared with {@code equals} (records: {@link EncoderSpec}, {@link ImageEncoderSpec}).
 *
 * <pre>{@code
 * ProcessResources.Lease<SharedModel<TextEncoder>> enc =
 *         SharedEncoders.acquire(spec, () -> TextEncoder.create(spec.toConfig()));
 * try { enc.get().call(e -> e.encode(ids, lengths)); } finally { enc.close(); }
 * }</pre>
 */
public final class SharedEncoders {

    private SharedEncoders() {
    }

    /** A lease on the process's encoder for {@code spec}, created by {@code loader} on first use. */
    public static <E extends AutoCloseable> ProcessResources.Lease<SharedModel<E>> acquire(Object spec,
            ProcessResources.Factory<E> loader) throws Exception {
        return ProcessResources.acquire(new Key(spec), () -> new SharedModel<>(loader.create()));
    }

    /** Keeps encoder keys apart from other resources' keys. */
    private record Key(Object spec) {
        @Override
        public String toString() {
            return "encoder " + spec;
        }
    }
}
