package io.inflow.operators.embed;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * One encoder per spec per task-manager process, shared by all slots that run it: weights are loaded once, and the
 * encoder's own lock queues the batches of all slots onto one set of kernel threads (or one GPU context) instead of
 * oversubscribing the cores. Reference-counted: the last {@link #release} closes it. Specs are compared with
 * {@code equals} (records: {@link EncoderSpec}, {@link ImageEncoderSpec}).
 *
 * <pre>{@code
 * TextEncoder enc = SharedEncoders.acquire(spec, () -> TextEncoder.create(spec.toConfig()));
 * try { ... } finally { SharedEncoders.release(spec); }
 * }</pre>
 */
public final class SharedEncoders {

    private static final Logger LOG = LoggerFactory.getLogger(SharedEncoders.class);
    private static final Map<Object, Entry> ENCODERS = new HashMap<>();

    private static final class Entry {
        final AutoCloseable encoder;
        int users;

        Entry(AutoCloseable encoder) {
            this.encoder = encoder;
        }
    }

    private SharedEncoders() {
    }

    /** The process's encoder for {@code spec}, created by {@code loader} on first use. */
    @SuppressWarnings("unchecked")
    public static synchronized <E extends AutoCloseable> E acquire(Object spec, Callable<E> loader) throws Exception {
        Entry e = ENCODERS.get(spec);
        if (e == null) {
            long t0 = System.nanoTime();
            e = new Entry(loader.call());
            ENCODERS.put(spec, e);
            LOG.info("loaded encoder for {} in {} ms", spec, (System.nanoTime() - t0) / 1_000_000);
        }
        e.users++;
        return (E) e.encoder;
    }

    /** Gives one use back; closes the encoder when nobody uses it any more. */
    public static synchronized void release(Object spec) throws Exception {
        Entry e = ENCODERS.get(spec);
        if (e != null && --e.users == 0) {
            ENCODERS.remove(spec);
            e.encoder.close();
        }
    }
}
