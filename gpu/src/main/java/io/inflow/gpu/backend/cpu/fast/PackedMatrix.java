package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.tensor.NativeMemory;

/**
 * The right-hand matrix of an SGEMM packed into column panels of {@link Sgemm#NR} floats:
 * {@code data[(panel * k + p) * NR + j] = B(p, panel * NR + j)} with zeros past {@code n}, so the micro-kernel
 * reads each panel sequentially. Weights are packed once and cached by the backend.
 *
 * <p>{@code PackedMatrix pb = PackedMatrix.pack(weight.address(), n, k, true);}
 */
public final class PackedMatrix {
    final float[] data;
    final int n;
    final int k;
    final int panels;

    private PackedMatrix(float[] data, int n, int k, int panels) {
        this.data = data;
        this.n = n;
        this.k = k;
        this.panels = panels;
    }

    /** Packs B at {@code address}: {@code [n, k]} row-major when {@code transposed} (Linear weight), else {@code [k, n]}. */
    public static PackedMatrix pack(long address, int n, int k, boolean transposed) {
        float[] src = new float[Math.multiplyExact(n, k)];
        NativeMemory.copyToArray(address, src, 0, src.length);
        return pack(src, n, k, transposed);
    }

    /** Packs B held in {@code src}, laid out as for {@link #pack(long, int, int, boolean)}. */
    public static PackedMatrix pack(float[] src, int n, int k, boolean transposed) {
        int nr = Sgemm.NR;
        int panels = (n + nr - 1) / nr;
        float[] data = new float[Math.multiplyExact(panels * nr, k)];
        for (int panel = 0; panel < panels; panel++) {
            int j0 = panel * nr;
            int cols = Math.min(nr, n - j0);
            int base = panel * k * nr;
            for (int p = 0; p < k; p++) {
                int row = base + p * nr;
                for (int j = 0; j < cols; j++) {
                    data[row + j] = transposed ? src[(j0 + j) * k + p] : src[p * n + j0 + j];
                }
            }
        }
        return new PackedMatrix(data, n, k, panels);
    }

    public int n() {
        return n;
    }

    public int k() {
        return k;
    }
}
