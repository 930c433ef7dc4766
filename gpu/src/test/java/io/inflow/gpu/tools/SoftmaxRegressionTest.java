package io.inflow.gpu.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The trainer behind the spam/ham head: its answer is the optimum of the stated objective, and repeatable. */
class SoftmaxRegressionTest {
    /**
     * Gradient of the objective at the returned weights. L-BFGS stops at 1e-6 in double; the weights are then rounded
     * to float32 (relative 6e-8), which moves the gradient by about that times the Hessian's norm (< 1 here).
     */
    static final double GRADIENT_TOL = 1e-5;

    @Test
    void theFitIsStationaryForTheObjective() {
        for (int k : new int[] {2, 3}) {
            int n = 300;
            int d = 4;
            double l2 = 1e-2;
            Random r = new Random(11);
            float[] x = new float[n * d];
            int[] y = new int[n];
            int[] rows = new int[n];
            for (int i = 0; i < n; i++) {
                rows[i] = i;
                y[i] = i % k;
                for (int j = 0; j < d; j++) {
                    x[i * d + j] = (float) (r.nextGaussian() + (j == y[i] ? 1.5 : 0));   // overlapping classes
                }
            }
            SoftmaxRegression.Fit fit = SoftmaxRegression.fit(x, d, rows, y, k, l2);
            double[] grad = new double[k * d + k];
            for (int i = 0; i < n; i++) {
                double[] logits = new double[k];
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < k; c++) {
                    logits[c] = fit.bias()[c];
                    for (int j = 0; j < d; j++) {
                        logits[c] += (double) fit.weight()[c * d + j] * x[i * d + j];
                    }
                    max = Math.max(max, logits[c]);
                }
                double sum = 0;
                for (double l : logits) {
                    sum += Math.exp(l - max);
                }
                for (int c = 0; c < k; c++) {
                    double residual = Math.exp(logits[c] - max) / sum - (c == y[i] ? 1 : 0);
                    for (int j = 0; j < d; j++) {
                        grad[c * d + j] += residual * x[i * d + j] / n;
                    }
                    grad[k * d + c] += residual / n;
                }
            }
            for (int i = 0; i < k * d; i++) {
                grad[i] += l2 * fit.weight()[i];
            }
            for (double g : grad) {
                assertThat(Math.abs(g)).as("k=%d", k).isLessThan(GRADIENT_TOL);
            }
            // not the trivial answer, and repeatable bit for bit
            assertThat(fit.weight()).isNotEqualTo(new float[k * d]);
            SoftmaxRegression.Fit again = SoftmaxRegression.fit(x, d, rows, y, k, l2);
            assertThat(again.weight()).containsExactly(fit.weight());
            assertThat(again.bias()).containsExactly(fit.bias());
        }
    }
}
