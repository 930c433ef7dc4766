package io.inflow.gpu.cluster;

/**
 * Principal components: the mean and the first {@code p} unit eigenvectors of the covariance matrix (largest
 * eigenvalue first; each vector's sign chosen so its largest-magnitude entry is positive, so every backend gives the
 * same axes). The nested-density paper found L2 on 2-10 components clusters embeddings better than full vectors.
 *
 * <pre>{@code
 * Pca pca = backend.clustering().principalComponents(points, 5);
 * Points reduced = pca.project(points);      // n x 5
 * }</pre>
 *
 * @param mean per-dimension mean, {@code d} values
 * @param components {@code p x d}, row-major
 * @param eigenvalues the variance along each component
 */
public record Pca(double[] mean, double[] components, double[] eigenvalues) {

    public int dim() {
        return mean.length;
    }

    public int count() {
        return eigenvalues.length;
    }

    /** Share of the total variance the components keep ({@code totalVariance}: the covariance's trace). */
    public double explained(double totalVariance) {
        double s = 0;
        for (double e : eigenvalues) {
            s += e;
        }
        return totalVariance == 0 ? 1 : s / totalVariance;
    }

    /** {@code points} in component coordinates. */
    public Points project(Points points) {
        if (points.dim() != dim()) {
            throw new IllegalArgumentException("projecting " + points.dim() + "-d points with a " + dim() + "-d PCA");
        }
        int p = count();
        float[] out = new float[points.n() * p];
        for (int i = 0; i < points.n(); i++) {
            project(points.data(), i * dim(), out, i * p);
        }
        return new Points(out, points.n(), p);
    }

    /** Projects the {@code d} values at {@code in[from..]} into {@code out[to..to+p)}. */
    public void project(float[] in, int from, float[] out, int to) {
        int d = dim();
        for (int c = 0; c < count(); c++) {
            double s = 0;
            for (int k = 0; k < d; k++) {
                s += (in[from + k] - mean[k]) * components[c * d + k];
            }
            out[to + c] = (float) s;
        }
    }

    /** Per-dimension mean, in double. */
    public static double[] mean(Points points) {
        int d = points.dim();
        double[] mean = new double[d];
        float[] x = points.data();
        for (int i = 0; i < points.n(); i++) {
            for (int k = 0; k < d; k++) {
                mean[k] += x[i * d + k];
            }
        }
        for (int k = 0; k < d; k++) {
            mean[k] /= Math.max(1, points.n());
        }
        return mean;
    }

    /** The sample covariance ({@code / (n - 1)}), {@code d x d}, in double. */
    static double[] covariance(Points points) {
        int d = points.dim();
        double[] mean = mean(points);
        double[] cov = new double[d * d];
        float[] x = points.data();
        double[] centred = new double[d];
        for (int i = 0; i < points.n(); i++) {
            for (int k = 0; k < d; k++) {
                centred[k] = x[i * d + k] - mean[k];
            }
            for (int a = 0; a < d; a++) {
                double ca = centred[a];
                for (int b = a; b < d; b++) {
                    cov[a * d + b] += ca * centred[b];
                }
            }
        }
        double norm = Math.max(1, points.n() - 1);
        for (int a = 0; a < d; a++) {
            for (int b = a; b < d; b++) {
                cov[a * d + b] /= norm;
                cov[b * d + a] = cov[a * d + b];
            }
        }
        return cov;
    }

    /** The first {@code p} eigenpairs of a symmetric {@code d x d} matrix, by cyclic Jacobi rotations. */
    public static Pca fromCovariance(double[] mean, double[] covariance, int p) {
        int d = mean.length;
        if (p < 1 || p > d) {
            throw new IllegalArgumentException("PCA components must be between 1 and the dimension " + d + " (was "
                    + p + ")");
        }
        double[] a = covariance.clone();
        double[] v = new double[d * d];
        for (int i = 0; i < d; i++) {
            v[i * d + i] = 1;
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            double diag = 0;
            for (int i = 0; i < d; i++) {
                diag += a[i * d + i] * a[i * d + i];
                for (int j = i + 1; j < d; j++) {
                    off += a[i * d + j] * a[i * d + j];
                }
            }
            if (off <= 1e-30 * Math.max(diag, 1e-300)) {
                break;
            }
            for (int i = 0; i < d - 1; i++) {
                for (int j = i + 1; j < d; j++) {
                    rotate(a, v, d, i, j);
                }
            }
        }
        return fromEigenpairs(mean, a, v, p);
    }

    /**
     * The first {@code p} eigenpairs of a diagonalised {@code d x d} matrix: eigenvalues on the diagonal of
     * {@code diagonalised}, the eigenvector of {@code diagonalised[c][c]} in column {@code c} of {@code vectors}
     * (both row-major, as a Jacobi solver leaves them), sorted by eigenvalue (largest first) and signed by the
     * convention above. Shared by every backend's solver.
     */
    public static Pca fromEigenpairs(double[] mean, double[] diagonalised, double[] vectors, int p) {
        int d = mean.length;
        if (p < 1 || p > d) {
            throw new IllegalArgumentException("PCA components must be between 1 and the dimension " + d + " (was "
                    + p + ")");
        }
        double[] a = diagonalised;
        double[] v = vectors;
        Integer[] order = new Integer[d];
        for (int i = 0; i < d; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(a[y * d + y], a[x * d + x]));
        double[] comps = new double[p * d];
        double[] eig = new double[p];
        for (int c = 0; c < p; c++) {
            int col = order[c];
            eig[c] = a[col * d + col];
            int biggest = 0;
            for (int k = 0; k < d; k++) {
                comps[c * d + k] = v[k * d + col];
                if (Math.abs(comps[c * d + k]) > Math.abs(comps[c * d + biggest])) {
                    biggest = k;
                }
            }
            if (comps[c * d + biggest] < 0) {
                for (int k = 0; k < d; k++) {
                    comps[c * d + k] = -comps[c * d + k];
                }
            }
        }
        return new Pca(mean, comps, eig);
    }

    /** One Jacobi rotation zeroing {@code a[i][j]}; accumulates the eigenvectors in the columns of {@code v}. */
    private static void rotate(double[] a, double[] v, int d, int i, int j) {
        double aij = a[i * d + j];
        if (Math.abs(aij) < 1e-300) {
            return;
        }
        double theta = (a[j * d + j] - a[i * d + i]) / (2 * aij);
        double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        if (theta == 0) {
            t = 1;
        }
        double c = 1 / Math.sqrt(t * t + 1);
        double s = t * c;
        for (int k = 0; k < d; k++) {
            double aki = a[k * d + i];
            double akj = a[k * d + j];
            a[k * d + i] = c * aki - s * akj;
            a[k * d + j] = s * aki + c * akj;
        }
        for (int k = 0; k < d; k++) {
            double aik = a[i * d + k];
            double ajk = a[j * d + k];
            a[i * d + k] = c * aik - s * ajk;
            a[j * d + k] = s * aik + c * ajk;
        }
        for (int k = 0; k < d; k++) {
            double vki = v[k * d + i];
            double vkj = v[k * d + j];
            v[k * d + i] = c * vki - s * vkj;
            v[k * d + j] = s * vki + c * vkj;
        }
    }
}
