package io.inflow.gpu.pooling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import org.junit.jupiter.api.Test;

class PoolerTest {
    /** Hand-computed float sums of a few values. */
    static final float EXACT_TOL = 1e-6f;

    @Test
    void meanClsAndLastTokenRespectLengths() {
        // hidden [2, 3, 2]: row 0 length 3, row 1 length 1 (all padding but one token)
        float[] h = {1, 2, 3, 4, 5, 6, 7, 8, 100, 100, 100, 100};
        try (Backend b = Backends.create(io.inflow.gpu.backend.BackendKind.CPU, 1);
             Tensor hidden = b.upload(h, 2, 3, 2);
             Tensor len = b.upload(new int[] {3, 1}, 2);
             Tensor out = b.allocate(DType.FLOAT32, 2, 2)) {
            new Pooler(PoolingConfig.mean(), 1).poolFinal(b, hidden, len, out);
            assertThat(out.toFloatArray()).containsExactly(3, 4, 7, 8);
            new Pooler(PoolingConfig.cls(), 1).poolFinal(b, hidden, len, out);
            assertThat(out.toFloatArray()).containsExactly(1, 2, 7, 8);
            new Pooler(PoolingConfig.lastToken(), 1).poolFinal(b, hidden, len, out);
            assertThat(out.toFloatArray()).containsExactly(5, 6, 7, 8);
        }
    }

    @Test
    void multiLayerIsTheWeightedMeanOfPerLayerMeans() {
        try (Backend b = Backends.create(io.inflow.gpu.backend.BackendKind.CPU, 1);
             Tensor l1 = b.upload(new float[] {1, 1, 3, 3}, 1, 2, 2);
             Tensor l2 = b.upload(new float[] {10, 20, 99, 99}, 1, 2, 2);
             Tensor len = b.upload(new int[] {1}, 1);
             Tensor out = b.allocate(DType.FLOAT32, 1, 2);
             Tensor scratch = b.allocate(DType.FLOAT32, 1, 2)) {
            Pooler uniform = new Pooler(PoolingConfig.multiLayerMean(), 2);
            assertThat(uniform.needsEveryLayer()).isTrue();
            uniform.begin(b, out);
            uniform.acceptLayer(b, 1, l1, len, out, scratch);
            uniform.acceptLayer(b, 2, l2, len, out, scratch);
            assertThat(out.toFloatArray()).containsExactly(5.5f, 10.5f);
            Pooler weighted = new Pooler(PoolingConfig.multiLayerMean(1, 3), 2);
            weighted.begin(b, out);
            weighted.acceptLayer(b, 1, l1, len, out, scratch);
            weighted.acceptLayer(b, 2, l2, len, out, scratch);
            float[] o = out.toFloatArray();
            assertThat(o[0]).isCloseTo(0.25f * 1 + 0.75f * 10, org.assertj.core.data.Offset.offset(EXACT_TOL));
            assertThat(o[1]).isCloseTo(0.25f * 1 + 0.75f * 20, org.assertj.core.data.Offset.offset(EXACT_TOL));
        }
    }

    @Test
    void rejectsBadWeights() {
        assertThatThrownBy(() -> PoolingConfig.multiLayerMean(1, -1)).hasMessageContaining(">= 0");
        assertThatThrownBy(() -> PoolingConfig.multiLayerMean(0, 0)).hasMessageContaining("sum to 0");
        assertThatThrownBy(() -> new Pooler(PoolingConfig.multiLayerMean(1, 1, 1), 6))
                .hasMessageContaining("3 weights but the model has 6 layers");
    }
}
