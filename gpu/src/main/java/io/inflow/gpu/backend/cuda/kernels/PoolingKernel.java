package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code pooling.cu}: {@code mean_pool_f32}, {@code first_token_pool_f32}, {@code last_token_pool_f32}.
 * CPU twin: {@code PoolingReference}. Grid {@code (ceil(dim / 128), batch)}, one thread per output column.
 * C signatures {@code (hidden, lengths, out, seq, dim)} and {@code (hidden, out, seq, dim)} for the first token.
 *
 * <p>{@code PoolingKernel.mean(launcher, hidden, lengths, out, batch, seq, dim);}
 */
public final class PoolingKernel {
    public static final String MODULE = "pooling";
    static final int THREADS = 128;

    private PoolingKernel() {
    }

    public static void mean(KernelLauncher launcher, Tensor hidden, Tensor lengths, Tensor out, int batch, int seq,
                            int dim) {
        launch(launcher, "mean_pool_f32", hidden, lengths, out, batch, seq, dim);
    }

    public static void first(KernelLauncher launcher, Tensor hidden, Tensor out, int batch, int seq, int dim) {
        launch(launcher, "first_token_pool_f32", hidden, null, out, batch, seq, dim);
    }

    public static void last(KernelLauncher launcher, Tensor hidden, Tensor lengths, Tensor out, int batch, int seq,
                            int dim) {
        launch(launcher, "last_token_pool_f32", hidden, lengths, out, batch, seq, dim);
    }

    private static void launch(KernelLauncher launcher, String function, Tensor hidden, Tensor lengths, Tensor out,
                               int batch, int seq, int dim) {
        if (batch == 0 || dim == 0) {
            return;
        }
        if (batch > 65535) {
            throw new IllegalArgumentException(function + " supports batch up to 65535 (requested " + batch + ")");
        }
        KernelArgs args = KernelArgs.of().ptr(hidden);
        if (lengths != null) {
            args.ptr(lengths);
        }
        args.ptr(out).i32(seq).i32(dim);
        launcher.launch(MODULE, function, KernelLauncher.ceilDiv(dim, THREADS), batch, 1, THREADS, 0,
                "b=" + batch + " s=" + seq + " d=" + dim, args);
    }
}
