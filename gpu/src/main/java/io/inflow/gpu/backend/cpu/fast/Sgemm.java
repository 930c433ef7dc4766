package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.tensor.NativeMemory;
import java.util.Arrays;
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
    /** Rows of A copied together (a multiple of MR): the block stays in L2 while B panels stream by. */
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
        multiply(aAddress, m, k, b, bias, Epilogue.NONE, cAddress, runner);
    }

    /** What happens to each row of a C block after {@code A · B + bias}, before it is stored. */
    public enum Epilogue {
        /** Store as is. */
        NONE,
        /** GELU (erf form, {@link VectorMath#gelu}) on every element. */
        GELU,
        /** Add to what C holds (a residual connection: {@code C += A · B + bias}). */
        ADD
    }

    /**
     * {@code C = A · B + bias}, then the epilogue (GELU, or adding C's previous contents): it runs on each row of a
     * C block before it is copied out (still in L2), so the activation or the residual costs no extra pass over C.
     */
    public static void multiply(long aAddress, int m, int k, PackedMatrix b, float[] bias, Epilogue epilogue,
                                long cAddress, ParallelRunner runner) {
        if (b.k != k) {
            throw new IllegalArgumentException("sgemm: A has k = " + k + " but packed B has k = " + b.k);
        }
        int n = b.n;
        if (m == 0 || n == 0) {
            return;
        }
        if (bias != null && bias.length < n) {
            throw new IllegalArgumentException("sgemm: bias has " + bias.length + " values, C has n = " + n);
        }
        float[] paddedBias = bias == null ? null : Arrays.copyOf(bias, b.panels * NR);
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
                computeBlock(aAddress, r0, rows, k, b, p0, p1, paddedBias, epilogue, cAddress, n, SCRATCH.get());
            }
        });
    }

    /**
     * Rows {@code [r0, r0 + rows)} times panels {@code [p0, p1)}: A's rows are copied as they are (row-major,
     * zero rows up to a multiple of MR; k is small enough for the six rows of a sliver to stay in L1), the
     * micro-tiles land in a row-major C block that goes out with one copy per row.
     */
    private static void computeBlock(long aAddress, int r0, int rows, int k, PackedMatrix b, int p0, int p1,
                                     float[] bias, Epilogue epilogue, long cAddress, int n, Scratch s) {
        int blocks = (rows + MR - 1) / MR;
        float[] a = s.a(blocks * MR * k);
        NativeMemory.copyToArray(aAddress + 4L * r0 * k, a, 0, rows * k);
        Arrays.fill(a, rows * k, blocks * MR * k, 0f);
        int ldc = (p1 - p0) * NR;
        float[] c = s.c(blocks * MR * ldc);
        for (int panel = p0; panel < p1; panel++) {
            int bOff = panel * k * NR;
            int cCol = (panel - p0) * NR;
            for (int blk = 0; blk < blocks; blk++) {
                kernel(a, blk * MR * k, k, b.data, bOff, bias, panel * NR, c, blk * MR * ldc + cCol, ldc);
            }

        }
        int j0 = p0 * NR;
        int width = Math.min(n, p1 * NR) - j0;
        for (int i = 0; i < rows; i++) {
            long row = cAddress + 4L * ((long) (r0 + i) * n + j0);
            if (epilogue == Epilogue.GELU) {
                FastActivations.gelu(c, i * ldc, width);
            } else if (epilogue == Epilogue.ADD) {
                float[] old = s.row(width);
                NativeMemory.copyToArray(row, old, 0, width);
                addInto(c, i * ldc, old, width);
            }
            NativeMemory.copyFromArray(c, i * ldc, row, width);
        }
    }

    /**
     * The 6 x 2L micro-kernel: 12 vector accumulators, one broadcast of A and two loads of B per FMA pair.
     * A is row-major with row stride {@code k} from {@code aOff}; the tile plus {@code bias[j0, j0 + NR)}
     * is stored at {@code c[cOff + i * ldc]}.
     */
    static void kernel(float[] a, int aOff, int k, float[] b, int bOff, float[] bias, int j0, float[] c, int cOff,
                       int ldc) {
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
        int a0 = aOff;
        int a1 = a0 + k;
        int a2 = a1 + k;
        int a3 = a2 + k;
        int a4 = a3 + k;
        int a5 = a4 + k;
        int bi = bOff;
        for (int p = 0; p < k; p++, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector av = FloatVector.broadcast(S, a[a0 + p]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[a1 + p]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, a[a2 + p]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, a[a3 + p]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, a[a4 + p]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, a[a5 + p]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
        }
        if (bias != null) {
            FloatVector bias0 = FloatVector.fromArray(S, bias, j0);
            FloatVector bias1 = FloatVector.fromArray(S, bias, j0 + L);
            c00 = c00.add(bias0);
            c01 = c01.add(bias1);
            c10 = c10.add(bias0);
            c11 = c11.add(bias1);
            c20 = c20.add(bias0);
            c21 = c21.add(bias1);
            c30 = c30.add(bias0);
            c31 = c31.add(bias1);
            c40 = c40.add(bias0);
            c41 = c41.add(bias1);
            c50 = c50.add(bias0);
            c51 = c51.add(bias1);
        }
        c00.intoArray(c, cOff);
        c01.intoArray(c, cOff + L);
        c10.intoArray(c, cOff + ldc);
        c11.intoArray(c, cOff + ldc + L);
        c20.intoArray(c, cOff + 2 * ldc);
        c21.intoArray(c, cOff + 2 * ldc + L);
        c30.intoArray(c, cOff + 3 * ldc);
        c31.intoArray(c, cOff + 3 * ldc + L);
        c40.intoArray(c, cOff + 4 * ldc);
        c41.intoArray(c, cOff + 4 * ldc + L);
        c50.intoArray(c, cOff + 5 * ldc);
        c51.intoArray(c, cOff + 5 * ldc + L);
    }

    /** Per-thread buffers, grown to the largest block seen and then reused. */
    /** {@code c[off, off + n) += add[0, n)}. */
    private static void addInto(float[] c, int off, float[] add, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(S, c, off + i).add(FloatVector.fromArray(S, add, i)).intoArray(c, off + i);
        }
        for (; i < n; i++) {
            c[off + i] += add[i];
        }
    }

    private static final class Scratch {
        private float[] a = new float[0];
        private float[] c = new float[0];
        private float[] row = new float[0];

        float[] row(int size) {
            if (row.length < size) {
                row = new float[size];
            }
            return row;
        }

        float[] a(int size) {
            if (a.length < size) {
                a = new float[size];
            }
            return a;
        }

        float[] c(int size) {
            if (c.length < size) {
                c = new float[size];
            }
            return c;
        }
    }
}
