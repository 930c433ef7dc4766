package io.inflow.gpu.tools;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;

/**
 * Multinomial logistic regression (softmax over {@code k} classes) fitted by L-BFGS, in double precision on one
 * thread, so the same inputs always give the same weights. Objective: mean cross-entropy over the rows plus
 * {@code l2 / 2 * |W|^2} (the bias is not penalised); both start at zero.
 *
 * <pre>{@code
 * SoftmaxRegression.Fit fit = SoftmaxRegression.fit(x, 384, rows, y, 2, 1e-3);
 * float[] w = fit.weight();   // [k, d] row-major, as classifier.weight
 * }</pre>
 */
final class SoftmaxRegression {
    /** L-BFGS history length. */
    static final int MEMORY = 10;
    static final int MAX_ITERATIONS = 1000;
    /** Converged when every gradient component is below this... */
    static final double GRADIENT_TOLERANCE = 1e-6;
    /** ...or an accepted step lowers the objective by less than this (relative). */
    static final double LOSS_TOLERANCE = 1e-12;
    /** Armijo sufficient-decrease constant of the backtracking line search. */
    static final double ARMIJO = 1e-4;

    /** Fitted weights {@code [k, d]}, bias {@code [k]}, the objective at the end and the iterations taken. */
    record Fit(float[] weight, float[] bias, double objective, int iterations) {
    }

    private final float[] x;
    private final int d;
    private final int[] rows;
    private final int[] y;
    private final int k;
    private final double l2;

    private SoftmaxRegression(float[] x, int d, int[] rows, int[] y, int k, double l2) {
        this.x = x;
        this.d = d;
        this.rows = rows;
        this.y = y;
        this.k = k;
        this.l2 = l2;
    }

    /**
     * @param x embeddings {@code [n, d]} row-major (all rows; only {@code rows} are used)
     * @param rows the rows to fit on
     * @param y class of every row of {@code x}, in {@code [0, k)}
     */
    static Fit fit(float[] x, int d, int[] rows, int[] y, int k, double l2) {
        return new SoftmaxRegression(x, d, rows, y, k, l2).run();
    }

    private Fit run() {
        int p = k * d + k;
        double[] theta = new double[p];
        double[] g = new double[p];
        double f = evaluate(theta, g);
        Deque<double[][]> history = new ArrayDeque<>();   // {s, y, {1 / s.y}}, newest first
        int iter = 0;
        for (; iter < MAX_ITERATIONS && maxAbs(g) > GRADIENT_TOLERANCE; iter++) {
            double[] dir = direction(g, history);
            double slope = dot(g, dir);
            if (slope >= 0) {                              // not a descent direction: restart from steepest descent
                history.clear();
                dir = direction(g, history);
                slope = dot(g, dir);
            }
            double[] next = new double[p];
            double[] gNext = new double[p];
            double fNext = Double.NaN;
            double step = 1;
            for (int tries = 0; tries < 50; tries++, step *= 0.5) {
                for (int i = 0; i < p; i++) {
                    next[i] = theta[i] + step * dir[i];
                }
                fNext = evaluate(next, gNext);
                if (fNext <= f + ARMIJO * step * slope) {
                    break;
                }
            }
            if (!(fNext < f)) {
                break;                                     // no decrease possible at double precision
            }
            double[] s = new double[p];
            double[] yv = new double[p];
            for (int i = 0; i < p; i++) {
                s[i] = next[i] - theta[i];
                yv[i] = gNext[i] - g[i];
            }
            double sy = dot(s, yv);
            if (sy > 1e-12) {
                history.addFirst(new double[][] {s, yv, {1 / sy}});
                if (history.size() > MEMORY) {
                    history.removeLast();
                }
            }
            boolean flat = f - fNext <= LOSS_TOLERANCE * Math.max(1, Math.abs(f));
            theta = next;
            g = gNext;
            f = fNext;
            if (flat) {
                iter++;
                break;
            }
        }
        float[] w = new float[k * d];
        float[] b = new float[k];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) theta[i];
        }
        for (int c = 0; c < k; c++) {
            b[c] = (float) theta[k * d + c];
        }
        return new Fit(w, b, f, iter);
    }

    /** The two-loop recursion: {@code -H g}; steepest descent scaled to unit length without history. */
    private static double[] direction(double[] g, Deque<double[][]> history) {
        double[] q = g.clone();
        if (history.isEmpty()) {
            double norm = Math.sqrt(dot(g, g));
            for (int i = 0; i < q.length; i++) {
                q[i] = -q[i] / norm;
            }
            return q;
        }
        double[] alpha = new double[history.size()];
        int j = 0;
        for (double[][] h : history) {
            alpha[j] = h[2][0] * dot(h[0], q);
            axpy(-alpha[j++], h[1], q);
        }
        double[][] newest = history.peekFirst();
        double gamma = 1 / (newest[2][0] * dot(newest[1], newest[1]));   // s.y / y.y
        for (int i = 0; i < q.length; i++) {
            q[i] *= gamma;
        }
        j = history.size() - 1;
        for (Iterator<double[][]> it = history.descendingIterator(); it.hasNext(); j--) {
            double[][] h = it.next();
            double beta = h[2][0] * dot(h[1], q);
            axpy(alpha[j] - beta, h[0], q);
        }
        for (int i = 0; i < q.length; i++) {
            q[i] = -q[i];
        }
        return q;
    }

    /** The objective at {@code theta}; its gradient into {@code grad}. */
    private double evaluate(double[] theta, double[] grad) {
        java.util.Arrays.fill(grad, 0);
        double loss = 0;
        double[] logits = new double[k];
        for (int r : rows) {
            int xo = r * d;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < k; c++) {
                double s = theta[k * d + c];
                for (int j = 0; j < d; j++) {
                    s += theta[c * d + j] * x[xo + j];
                }
                logits[c] = s;
                max = Math.max(max, s);
            }
            double sum = 0;
            for (int c = 0; c < k; c++) {
                sum += Math.exp(logits[c] - max);
            }
            double logSum = max + Math.log(sum);
            loss += logSum - logits[y[r]];
            for (int c = 0; c < k; c++) {
                double residual = Math.exp(logits[c] - logSum) - (c == y[r] ? 1 : 0);
                for (int j = 0; j < d; j++) {
                    grad[c * d + j] += residual * x[xo + j];
                }
                grad[k * d + c] += residual;
            }
        }
        double n = rows.length;
        double penalty = 0;
        for (int i = 0; i < grad.length; i++) {
            grad[i] /= n;
            if (i < k * d) {
                grad[i] += l2 * theta[i];
                penalty += theta[i] * theta[i];
            }
        }
        return loss / n + 0.5 * l2 * penalty;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            y[i] += a * x[i];
        }
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
