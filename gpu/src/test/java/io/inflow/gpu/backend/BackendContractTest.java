package io.inflow.gpu.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The backend contract, written once and run on every backend (a subclass per backend): small inputs
 * whose results are known by hand, argument checks, and memory ownership.
 */
public abstract class BackendContractTest {
    /** Hand-computed values, float32 kernels: a few ulps. */
    static final Offset<Float> HAND_TOL = Offset.offset(1e-5f);

    protected Backend backend;

    protected abstract Backend create();

    @BeforeEach
    void open() {
        backend = create();
    }

    @AfterEach
    void close() {
        if (backend != null) {
            backend.close();    // fails if a test leaked a tensor
        }
    }

    @Test
    void linearIsXTimesWTransposedPlusBias() {
        try (Tensor x = backend.upload(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
             Tensor w = backend.upload(new float[] {1, 0, 0, 0, 1, 1}, 2, 3);
             Tensor b = backend.upload(new float[] {10, 20}, 2);
             Tensor y = backend.allocate(DType.FLOAT32, 2, 2)) {
            backend.linear(x, w, b, y);
            assertThat(backend.download(y)).containsExactly(11, 25, 14, 31);
            backend.matmul(x, w, true, y);
            assertThat(backend.download(y)).containsExactly(1, 5, 4, 11);
        }
    }

    @Test
    void layerNormOfAConstantRowIsBeta() {
        try (Tensor x = backend.upload(new float[] {3, 3, 3, 1, 2, 3}, 2, 3);
             Tensor g = backend.upload(new float[] {1, 1, 1}, 3);
             Tensor b = backend.upload(new float[] {0.5f, 0.5f, 0.5f}, 3);
             Tensor y = backend.allocate(DType.FLOAT32, 2, 3)) {
            backend.layerNorm(x, null, g, b, 1e-12f, y);
            float[] out = backend.download(y);
            assertThat(out[0]).isCloseTo(0.5f, HAND_TOL);
            assertThat(out[3]).isCloseTo(0.5f - (float) Math.sqrt(1.5), HAND_TOL);   // (1-2)/sqrt(2/3) + 0.5
            assertThat(out[5]).isCloseTo(0.5f + (float) Math.sqrt(1.5), HAND_TOL);
        }
    }

    @Test
    void geluValues() {
        try (Tensor x = backend.upload(new float[] {0, 1, -1, 3}, 4); Tensor y = backend.allocate(DType.FLOAT32, 4)) {
            backend.gelu(x, y);
            float[] g = backend.download(y);
            assertThat(g[0]).isCloseTo(0f, HAND_TOL);
            assertThat(g[1]).isCloseTo(0.8413447f, HAND_TOL);
            assertThat(g[2]).isCloseTo(-0.1586553f, HAND_TOL);
            assertThat(g[3]).isCloseTo(2.9959502f, HAND_TOL);
            backend.quickGelu(x, y);
            assertThat(backend.download(y)[1]).isCloseTo((float) (1 / (1 + Math.exp(-1.702))), HAND_TOL);
        }
    }

    @Test
    void attentionOverOneValidKeyCopiesItsValue() {
        // batch 1, seq 3, 1 head of dim 2; length 1: the only key is position 0, so out[0] = v[0]
        try (Tensor q = backend.upload(new float[] {1, 2, 3, 4, 5, 6}, 1, 3, 2);
             Tensor v = backend.upload(new float[] {7, 8, 9, 9, 9, 9}, 1, 3, 2);
             Tensor len = backend.upload(new int[] {1}, 1);
             Tensor out = backend.allocate(DType.FLOAT32, 1, 3, 2)) {
            backend.attention(q, q, v, len, 1, out);
            assertThat(backend.download(out)).containsExactly(7, 8, 0, 0, 0, 0);
        }
    }

    @Test
    void attentionWithEqualScoresAveragesValues() {
        try (Tensor q = backend.upload(new float[4 * 2], 1, 2, 4);      // zero queries: uniform weights
             Tensor v = backend.upload(new float[] {1, 2, 3, 4, 3, 4, 5, 6}, 1, 2, 4);
             Tensor len = backend.upload(new int[] {2}, 1);
             Tensor out = backend.allocate(DType.FLOAT32, 1, 2, 4)) {
            backend.attention(q, q, v, len, 2, out);
            assertThat(backend.download(out)).containsExactly(2, 3, 4, 5, 2, 3, 4, 5);
        }
    }

    @Test
    void embeddingAddsWordPositionAndType() {
        try (Tensor ids = backend.upload(new int[] {2, 0}, 1, 2);
             Tensor word = backend.upload(new float[] {0, 0, 1, 1, 2, 2}, 3, 2);
             Tensor pos = backend.upload(new float[] {10, 10, 20, 20}, 2, 2);
             Tensor type = backend.upload(new float[] {100, 100}, 1, 2);
             Tensor out = backend.allocate(DType.FLOAT32, 1, 2, 2)) {
            backend.embed(ids, null, word, pos, type, out);
            assertThat(backend.download(out)).containsExactly(112, 112, 120, 120);
            try (Tensor bad = backend.upload(new int[] {3, 0}, 1, 2)) {
                assertThatThrownBy(() -> backend.embed(bad, null, word, pos, type, out))
                        .hasMessageContaining("token id 3").hasMessageContaining("[0, 3)");
            }
        }
    }

    @Test
    void gluL2AndScaleAdd() {
        try (Tensor x = backend.upload(new float[] {2, 0}, 1, 2);
             Tensor g = backend.allocate(DType.FLOAT32, 1, 1);
             Tensor v = backend.upload(new float[] {3, 4}, 1, 2);
             Tensor n = backend.allocate(DType.FLOAT32, 1, 2)) {
            backend.glu(x, GluGate.SIGMOID, g);
            assertThat(backend.download(g)[0]).isCloseTo(1f, HAND_TOL);     // 2 * sigmoid(0)
            backend.l2Normalize(v, n);
            assertThat(backend.download(n)).containsExactly(0.6f, 0.8f);
            backend.scaleAdd(n, v, 0.5f);
            assertThat(backend.download(n)).containsExactly(2.1f, 2.8f);
            backend.fill(n, 0f);
            backend.l2Normalize(n, n);
            assertThat(backend.download(n)).containsExactly(0f, 0f);
        }
    }

    @Test
    void shapeErrorsNameTheArgumentAndShapes() {
        try (Tensor x = backend.upload(new float[6], 2, 3);
             Tensor w = backend.upload(new float[8], 2, 4);
             Tensor y = backend.allocate(DType.FLOAT32, 2, 2)) {
            assertThatThrownBy(() -> backend.linear(x, w, null, y)).hasMessageContaining("disagree on k: 3 vs 4");
            try (Tensor len = backend.upload(new int[] {5}, 1); Tensor h = backend.upload(new float[6], 1, 3, 2);
                 Tensor o = backend.allocate(DType.FLOAT32, 1, 2)) {
                assertThatThrownBy(() -> backend.meanPool(h, len, o)).hasMessageContaining("lengths[0] = 5 outside [1, 3]");
            }
        }
    }
}
