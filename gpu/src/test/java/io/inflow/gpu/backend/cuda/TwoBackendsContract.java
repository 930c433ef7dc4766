package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * Two CUDA backends of one device used at once from two threads (each pipeline slot has its own backend, all on the
 * process's one context): each computes the same linear + LayerNorm chain 40 times and every result must equal, bit
 * for bit, what one backend computes alone (same kernels, same inputs). A tensor of one backend handed to the other
 * is refused before the launch.
 */
final class TwoBackendsContract {

    private TwoBackendsContract() {
    }

    static void check(Supplier<Backend> create) throws Exception {
        Random rnd = new Random(5);
        int m = 33;
        int n = 96;
        int k = 64;
        float[] x = new float[m * k];
        float[] w = new float[n * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextFloat() - 0.5f;
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = rnd.nextFloat() - 0.5f;
        }
        float[] alone;
        try (Backend one = create.get()) {
            alone = chain(one, x, w, m, n, k);
        }
        try (Backend a = create.get(); Backend b = create.get()) {
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                Future<?> fa = pool.submit(() -> repeat(a, x, w, m, n, k, alone));
                Future<?> fb = pool.submit(() -> repeat(b, x, w, m, n, k, alone));
                fa.get();
                fb.get();
            } finally {
                pool.shutdownNow();
            }
            try (Tensor foreign = a.upload(x, m, k); Tensor tw = b.upload(w, n, k); Tensor bias = b.upload(new float[n], n);
                 Tensor out = b.allocate(DType.FLOAT32, m, n)) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> b.transformer().linear(foreign, tw, bias, out))
                        .hasMessageContaining("not this backend's device memory");
            }
        }
    }

    private static Void repeat(Backend be, float[] x, float[] w, int m, int n, int k, float[] expected) {
        for (int r = 0; r < 40; r++) {
            assertThat(chain(be, x, w, m, n, k)).as("round %d on %s", r, be.name()).containsExactly(expected);
        }
        return null;
    }

    private static float[] chain(Backend be, float[] x, float[] w, int m, int n, int k) {
        float[] gamma = new float[n];
        java.util.Arrays.fill(gamma, 1f);
        try (Tensor tx = be.upload(x, m, k); Tensor tw = be.upload(w, n, k); Tensor bias = be.upload(new float[n], n);
             Tensor g = be.upload(gamma, n); Tensor beta = be.upload(new float[n], n);
             Tensor y = be.allocate(DType.FLOAT32, m, n); Tensor z = be.allocate(DType.FLOAT32, m, n)) {
            be.transformer().linear(tx, tw, bias, y);
            be.transformer().layerNorm(y, null, g, beta, 1e-12f, z);
            return be.download(z);
        }
    }
}
