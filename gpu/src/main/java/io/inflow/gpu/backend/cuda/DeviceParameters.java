package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.quant.Int8Embedding;
import io.inflow.gpu.quant.Int8Linear;
import io.inflow.gpu.quant.IntLayerNorm;
import io.inflow.gpu.quant.Requant;
import io.inflow.gpu.tensor.Tensor;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Device copies of the {@code QUANTIZED} family's heap parameters ({@link Int8Linear}, {@link Requant},
 * {@link IntLayerNorm}, {@link Int8Embedding}), uploaded on first use and reused while the parameter object lives:
 * the cache is keyed by object identity with weak keys, so the device copy of a parameter that became unreachable
 * (a calibration's probe LayerNorm, a model that was dropped) is freed at the next lookup after the garbage collector
 * noticed, and everything is freed by {@link #close} (the backend's close). Parameters are immutable records by
 * contract: arrays changed in place after the first use are not seen again.
 *
 * <p>Layouts (all INT32 tensors, as {@code quant.cu} reads them): int8 weights and tables as packed bytes (four per
 * int, little-endian, read through a {@code signed char*}); a requant as {@code [2c]}, multipliers then shifts; a
 * LayerNorm as {@code [6d]}: int8 multipliers, shifts, biases, then residual multipliers, shifts, biases.
 *
 * <pre>{@code
 * DeviceParameters p = new DeviceParameters(memory);
 * Tensor[] wb = p.linear(layer);       // {weights, bias}, uploaded once
 * Tensor rq = p.requant(requant);      // [2c]
 * p.close();                           // frees every copy
 * }</pre>
 */
final class DeviceParameters implements AutoCloseable {
    private final CudaMemory memory;
    private final Map<Key, Tensor[]> copies = new HashMap<>();
    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();

    DeviceParameters(CudaMemory memory) {
        this.memory = memory;
    }

    /** A weak reference compared by the identity of its referent (the stale key of a collected one equals itself). */
    private static final class Key extends WeakReference<Object> {
        private final int hash;

        Key(Object referent, ReferenceQueue<Object> queue) {
            super(referent, queue);
            this.hash = System.identityHashCode(referent);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            Object referent = get();
            return o instanceof Key k && referent != null && referent == k.get();
        }
    }

    /** {weights (packed int8 {@code [out * in]}), bias ({@code [out]})}. */
    Tensor[] linear(Int8Linear w) {
        return get(w, () -> new Tensor[] {bytes(w.weights()), ints(w.bias())});
    }

    /** Multipliers then shifts, {@code [2 * channels]}. */
    Tensor requant(Requant r) {
        return get(r, () -> new Tensor[] {ints(r.multiplier(), r.shift())})[0];
    }

    /** The six per-channel arrays of {@code qlayernorm_i32}, {@code [6 * dim]}. */
    Tensor layerNorm(IntLayerNorm ln) {
        return get(ln, () -> new Tensor[] {ints(ln.toInt8().multiplier(), ln.toInt8().shift(), ln.int8Bias(),
                ln.toResidual().multiplier(), ln.toResidual().shift(), ln.residualBias())})[0];
    }

    /** {table (packed int8 {@code [rows * dim]}), row dyadics ({@code [2 * rows]})}. */
    Tensor[] embedding(Int8Embedding e) {
        return get(e, () -> new Tensor[] {bytes(e.table()), ints(e.toResidual().multiplier(),
                e.toResidual().shift())});
    }

    /** Copies held now (tests). */
    synchronized int size() {
        expunge();
        return copies.size();
    }

    private synchronized Tensor[] get(Object parameter, Supplier<Tensor[]> upload) {
        expunge();
        Key probe = new Key(parameter, null);
        Tensor[] held = copies.get(probe);
        if (held == null) {
            held = upload.get();
            copies.put(new Key(parameter, collected), held);
        }
        Reference.reachabilityFence(parameter);
        return held;
    }

    /** Frees the copies of parameters the garbage collector has reclaimed. */
    private void expunge() {
        for (Reference<?> r; (r = collected.poll()) != null; ) {
            Tensor[] held = copies.remove(r);
            if (held != null) {
                free(held);
            }
        }
    }

    private Tensor bytes(byte[] b) {
        return memory.upload(CudaRetrievalOps.packBytes(b, b.length), (b.length + 3) / 4);
    }

    private Tensor ints(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] all = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return memory.upload(all, n);
    }

    private static void free(Tensor[] tensors) {
        for (Tensor t : tensors) {
            t.close();
        }
    }

    /** Frees every device copy. */
    @Override
    public synchronized void close() {
        List<Tensor[]> all = new ArrayList<>(copies.values());
        copies.clear();
        all.forEach(DeviceParameters::free);
        while (collected.poll() != null) {
            // drained: their copies are freed above
        }
    }
}
