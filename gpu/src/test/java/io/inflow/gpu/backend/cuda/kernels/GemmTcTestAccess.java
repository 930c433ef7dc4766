package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.tensor.Tensor;

/**
 * Test access to {@link GemmTcKernel}'s package-private parts from the emulated-device tests in
 * {@code backend.cuda}: launching a forced tile variant and the tile choice.
 *
 * <p>{@code GemmTcTestAccess.launch(launcher, a, w16, bias, Epilogue.BIAS, c, m, n, k, 128);   // 128-row tiles}
 */
public final class GemmTcTestAccess {
    private GemmTcTestAccess() {
    }

    /** {@link GemmTcKernel#launch} with {@code tileRows} 64 or 128 (0: the launcher's own choice). */
    public static void launch(KernelLauncher launcher, Tensor a, Tensor w16, Tensor bias, GemmKernel.Epilogue epilogue,
                              Tensor c, int m, int n, int k, int tileRows) {
        GemmTcKernel.launch(launcher, a, w16, bias, epilogue, c, m, n, k, tileRows);
    }

    /** The tile rows the launcher picks for an {@code m x n} output. */
    public static int tileRows(int m, int n) {
        return GemmTcKernel.tileRows(m, n);
    }

    /** Dynamic shared memory of the variant with {@code tileRows}-row tiles. */
    public static int sharedBytes(int tileRows) {
        return GemmTcKernel.sharedBytes(tileRows);
    }
}
