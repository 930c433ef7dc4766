package io.inflow.operators.embed;

import io.inflow.gpu.encoder.TextEncoder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;

/**
 * One encoder per spec per task-manager process, shared by all slots that run it: weights are loaded once, and the
 * encoder's own lock queues the batches of all slots onto one set of kernel threads (or one GPU context) instead of
 * oversubscribing the cores. Reference-counted: the last {@link #release} closes it.
 *
 * <pre>{@code
 * TextEncoder enc = SharedTextEncoders.acquire(spec);
 * try { ... } finally { SharedTextEncoders.release(spec); }
 * }</pre>
 */
public final class SharedTextEncoders {

    private static final Logger LOG = LoggerFactory.getLogger(SharedTextEncoders.class);
    private static final Map<EncoderSpec, Entry> ENCODERS = new HashMap<>();

    private static final class Entry {
        final TextEncoder encoder;
        int users;

        Entry(TextEncoder encoder) {
            this.encoder = encoder;
        }
    }

    private SharedTextEncoders() {
    }

    /** The process's encoder for {@code spec}, loading it on first use. */
    public static synchronized TextEncoder acquire(EncoderSpec spec) throws Exception {
        Entry e = ENCODERS.get(spec);
        if (e == null) {
            long t0 = System.nanoTime();
            e = new Entry(TextEncoder.create(spec.toConfig()));
            ENCODERS.put(spec, e);
            LOG.info("loaded encoder {} ({} dims, backend {}) in {} ms", spec.model().modelName(),
                    e.encoder.dimension(), e.encoder.backendName(), (System.nanoTime() - t0) / 1_000_000);
        }
        e.users++;
        return e.encoder;
    }

    /** Gives one use back; closes the encoder when nobody uses it any more. */
    public static synchronized void release(EncoderSpec spec) {
        Entry e = ENCODERS.get(spec);
        if (e != null && --e.users == 0) {
            ENCODERS.remove(spec);
            e.encoder.close();
        }
    }
}
