package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.tensor.NativeMemory;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM for the fast CPU backend: {@code C[m, n] = A[m, k] · B (+ bias)}, with B pre-packed
 * ({@link PackedMatrix}), A packed per block of {@link #MC} rows, and a register-blocked
 * {@value #MR} x {@code NR} micro-kernel ({@code NR} = two vectors of the preferred species: 32 floats on
 * AVX-512, 16 on AVX2) built from Vector API FMAs. Work is split over row chunks (and column panels when
 * there are few rows) across the {@link ParallelRunner}. Checked against
 * {@link io.inflow.gpu.backend.cpu.reference.MatmulReference} by {@code SgemmTest}.
 *
 * <p>{@code Sgemm.multiply(x.address(), m, k, PackedMatrix.pack(w.address(), n, k, true), bias, y.address(), runner);}
 */
public final class Sgemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    /** Rows per micro-tile: 6 rows x 2 vectors = 12 accumulators, within the 16 (AVX2) / 32 (AVX-512) registers. */
    public static final int MR = 6;
    /** Columns per micro-tile: two vectors. */
    public static final int NR = 2 * L;
    /** Rows of A packed together (a multiple of MR): the packed block stays in L2 while B panels stream by. */
    public static final int MC = 16 * MR;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Sgemm() {
    }

    /**
     * {@code C = A · B + bias}: A at {@code aAddress} is {@code [m, k]} row-major, C at {@code cAddress} is
     * {@code [m, n]} row-major, {@code bias} ({@code n} floats) may be null.
     */
    public static void multiply(long aAddress, int m, int k, PackedMatrix b, float[] bias, long cAddress,
                                ParallelRunner runner) {
        if (b.k != k) {
            throw new IllegalArgumentException("sgemm: A has k = " + k + " but packed B has k = " + b.k);
        }
        int n = b.n;
        if (m == 0 || n == 0) {
            return;
        }
        int chunks = (m + MC - 1) / MC;
        int wanted = 2 * runner.threads();
        int groups = chunks >= wanted ? 1 : Math.min(b.panels, (wanted + chunks - 1) / chunks);
        int panelsPerGroup = (b.panels + groups - 1) / groups;
        runner.parallelFor(chunks * groups, 2L * m * n * k, task -> {
            int chunk = task / groups;
            int group = task % groups;
            int r0 = chunk * MC;
            int rows = Math.min(MC, m - r0);
            int p0 = group * panelsPerGroup;
            int p1 = Math.min(b.panels, p0 + panelsPerGroup);
            if (p0 < p1) {
                Scratch s = SCRATCH.get();
                float[] ap = packA(aAddress, r0, rows, k, s);
                computeBlock(ap, rows, k, b, p0, p1, bias, cAddress + 4L * r0 * n, n, s.tile);
            }
        });
    }

    /** Packs {@code rows} rows of A starting at {@code r0} into MR-row slivers: {@code ap[(blk * k + p) * MR + i]}. */
    private static float[] packA(long aAddress, int r0, int rows, int k, Scratch s) {
        int blocks = (rows + MR - 1) / MR;
        float[] staging = s.staging(rows * k);
        NativeMemory.copyToArray(aAddress + 4L * r0 * k, staging, 0, rows * k);
        float[] ap = s.packedA(blocks * MR * k);
        for (int blk = 0; blk < blocks; blk++) {
            int base = blk * k * MR;
            for (int i = 0; i < MR; i++) {
                int row = blk * MR + i;
                if (row < rows) {
                    int src = row * k;
                    for (int p = 0; p < k; p++) {
                        ap[base + p * MR + i] = staging[src + p];
                    }
                } else {
                    for (int p = 0; p < k; p++) {
                        ap[base + p * MR + i] = 0f;
                    }
                }
            }
        }
        return ap;
    }

    private static void computeBlock(float[] ap, int rows, int k, PackedMatrix b, int p0, int p1, float[] bias,
                                     long cRowAddress, int n, float[] tile) {
        int blocks = (rows + MR - 1) / MR;
        for (int panel = p0; panel < p1; panel++) {
            int j0 = panel * NR;
            int cols = Math.min(NR, n - j0);
            int bOff = panel * k * NR;
            for (int blk = 0; blk < blocks; blk++) {
                kernel(ap, blk * k * MR, b.data, bOff, k, tile);
                int tileRows = Math.min(MR, rows - blk * MR);
                if (bias != null) {
                    addBias(tile, tileRows, bias, j0, cols);
                }
                for (int i = 0; i < tileRows; i++) {
                    long dst = cRowAddress + 4L * ((long) (blk * MR + i) * n + j0);
                    NativeMemory.copyFromArray(tile, i * NR, dst, cols);
                }
            }
        }
    }

    private static void addBias(float[] tile, int rows, float[] bias, int j0, int cols) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                tile[i * NR + j] += bias[j0 + j];
            }
        }
    }

    /** The 6 x 2L micro-kernel: 12 vector accumulators, one broadcast of A and two loads of B per FMA pair. */
    static void kernel(float[] a, int aOff, float[] b, int bOff, int k, float[] tile) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S);
        FloatVector c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S);
        FloatVector c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S);
        FloatVector c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S);
        FloatVector c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S);
        FloatVector c51 = FloatVector.zero(S);
        int ai = aOff;
        int bi = bOff;
        for (int p = 0; p < k; p++, ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector av = FloatVector.broadcast(S, a[ai]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[ai + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, a[ai + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, a[ai + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, a[ai + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, a[ai + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
    }

    /** Per-thread buffers, grown to the largest block seen and then reused. */
    private static final class Scratch {
        final float[] tile = new float[MR * NR];
        private float[] staging = new float[0];
        private float[] packedA = new float[0];

        float[] staging(int size) {
            if (staging.length < size) {
                staging = new float[size];
            }
            return staging;
        }

        float[] packedA(int size) {
            if (packedA.length < size) {
                packedA = new float[size];
            }
            return packedA;
        }
    }
}
