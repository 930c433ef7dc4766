package io.inflow.operators.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Threads an operator starts beside its task thread (compute, tokenizer, image decoders). Unlike Flink's
 * {@code ExecutorThreadFactory}, whose default handler ends the whole TaskManager JVM on an uncaught exception, an
 * uncaught exception here is logged and only that thread ends: the work it held fails through its future or
 * through the operator's mailbox, and Flink's restart strategy takes over from there. Threads are daemons, so a
 * helper that does not stop never keeps a JVM alive.
 *
 * <pre>{@code
 * ExecutorService tokenizer = HelperThreads.pool("inflow-tokenizer", 2);
 * }</pre>
 */
public final class HelperThreads {

    private static final Logger LOG = LoggerFactory.getLogger(HelperThreads.class);

    private HelperThreads() {
    }

    /** A thread factory naming threads {@code name-1}, {@code name-2}, ... that log uncaught exceptions. */
    public static ThreadFactory factory(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            t.setUncaughtExceptionHandler((thread, e) ->
                    LOG.error("uncaught exception in helper thread {} (the thread ends, the TaskManager keeps"
                            + " running)", thread.getName(), e));
            return t;
        };
    }

    /** A fixed pool of {@code threads} helper threads. */
    public static ExecutorService pool(String name, int threads) {
        return Executors.newFixedThreadPool(threads, factory(name));
    }
}
