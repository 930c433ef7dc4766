package io.inflow.gpu.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link TokenSet}: the stored form ({@link TokenSet#encode}) byte by byte, the in-memory layout the kernels read
 * (float32 values, int8 values + scales, 1-bit words + scales), {@link TokenSet#value} dequantization, offsets, and
 * the errors for stored forms that are not whole tokens. Also {@link TokenStorage} and {@link TokenQueries}' checks.
 */
class TokenSetTest {

    @Test
    void float32RoundTripsExactly() {
        Random rnd = new Random(1);
        float[] a = gaussian(rnd, 3 * 7);
        float[] b = gaussian(rnd, 5 * 7);
        TokenSet s = new TokenSet.Builder(TokenStorage.FLOAT32, 7)
                .add(TokenSet.encode(TokenStorage.FLOAT32, a, 0, 3, 7))
                .add(TokenSet.encode(TokenStorage.FLOAT32, b, 0, 5, 7)).build();
        assertThat(s.count()).isEqualTo(2);
        assertThat(s.totalTokens()).isEqualTo(8);
        assertThat(s.offsets()).containsExactly(0, 3, 8);
        assertThat(s.tokenCount(0)).isEqualTo(3);
        assertThat(s.tokenCount(1)).isEqualTo(5);
        assertThat(s.storedBytes()).isEqualTo(8L * 7 * 4);
        assertThat(s.int8Values()).isNull();
        assertThat(s.bitWords()).isNull();
        assertThat(s.scales()).isNull();
        for (int j = 0; j < 7; j++) {
            assertThat(s.value(1, j)).isEqualTo(a[7 + j]);
            assertThat(s.value(3 + 4, j)).isEqualTo(b[4 * 7 + j]);
        }
        float[] all = new float[8 * 7];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        assertThat(s.float32Values()).containsExactly(all);
    }

    @Test
    void encodeWritesLittleEndianScaleThenValues() {
        float[] x = {0.5f, -1.27f, 0.0f, 1.0f};
        ByteBuffer f = ByteBuffer.wrap(TokenSet.encode(TokenStorage.FLOAT32, x, 0, 1, 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : x) {
            assertThat(f.getFloat()).isEqualTo(v);
        }
        ByteBuffer i8 = ByteBuffer.wrap(TokenSet.encode(TokenStorage.INT8, x, 0, 1, 4)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(i8.capacity()).isEqualTo(4 + 4);
        assertThat(i8.getFloat()).isEqualTo(1.27f / 127f);
        assertThat(new byte[] {i8.get(), i8.get(), i8.get(), i8.get()}).containsExactly(50, -127, 0, 100);
        ByteBuffer b1 = ByteBuffer.wrap(TokenSet.encode(TokenStorage.BIT1, x, 0, 1, 4)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b1.capacity()).isEqualTo(4 + 1);
        assertThat(b1.getFloat()).isEqualTo((float) ((0.5 + 1.27f + 0 + 1) / 4));   // mean |x| in double
        assertThat(b1.get()).isEqualTo((byte) 0b1101);                              // x >= 0: bits 0, 2 (zero), 3
    }

    @Test
    void int8ValuesAreScaleTimesRoundedQuotient() {
        Random rnd = new Random(2);
        int dim = 100;
        float[] x = gaussian(rnd, 4 * dim);
        x[2 * dim + 17] = 0;
        TokenSet s = new TokenSet.Builder(TokenStorage.INT8, dim).add(TokenSet.encode(TokenStorage.INT8, x, 0, 4, dim))
                .build();
        assertThat(s.float32Values()).isNull();
        for (int t = 0; t < 4; t++) {
            float max = 0;
            for (int j = 0; j < dim; j++) {
                max = Math.max(max, Math.abs(x[t * dim + j]));
            }
            float scale = max / 127f;
            assertThat(s.scales()[t]).isEqualTo(scale);
            boolean sawExtreme = false;
            for (int j = 0; j < dim; j++) {
                byte q = s.int8Values()[t * dim + j];
                assertThat(q).isEqualTo((byte) Math.round(x[t * dim + j] / scale));
                assertThat((int) q).isBetween(-127, 127);
                sawExtreme |= Math.abs(q) == 127;
                assertThat(s.value(t, j)).isEqualTo(scale * q);
                // rounding to the nearest step: within half a step (plus float slack)
                assertThat((double) s.value(t, j)).isCloseTo(x[t * dim + j], within(0.5 * scale * 1.0001));
            }
            assertThat(sawExtreme).as("the largest |x| maps to +-127").isTrue();
        }
    }

    @Test
    void bit1StoresSignsInLowBitsFirstAndMeanMagnitude() {
        Random rnd = new Random(3);
        for (int dim : new int[] {1, 8, 63, 64, 65, 100, 130}) {
            float[] x = gaussian(rnd, 3 * dim);
            x[dim / 2] = 0f;                      // zero counts as +1
            x[dim + dim - 1] = -0f;               // -0 >= 0 as well
            TokenSet s = new TokenSet.Builder(TokenStorage.BIT1, dim)
                    .add(TokenSet.encode(TokenStorage.BIT1, x, 0, 1, dim))
                    .add(TokenSet.encode(TokenStorage.BIT1, x, dim, 2, dim)).build();
            int words = (dim + 63) / 64;
            assertThat(s.wordsPerToken()).isEqualTo(words);
            assertThat(s.bitWords()).hasSize(3 * words);
            assertThat(s.int8Values()).isNull();
            for (int t = 0; t < 3; t++) {
                double sum = 0;
                for (int j = 0; j < dim; j++) {
                    sum += Math.abs(x[t * dim + j]);
                }
                float scale = (float) (sum / dim);
                assertThat(s.scales()[t]).as("dim " + dim + " token " + t).isEqualTo(scale);
                for (int j = 0; j < dim; j++) {
                    boolean set = ((s.bitWords()[t * words + j / 64] >>> (j % 64)) & 1) == 1;
                    assertThat(set).as("dim " + dim + " token " + t + " bit " + j).isEqualTo(x[t * dim + j] >= 0);
                    assertThat(s.value(t, j)).isEqualTo(set ? scale : -scale);
                }
                if (dim % 64 != 0) {
                    long last = s.bitWords()[t * words + words - 1];
                    assertThat(last >>> (dim % 64)).as("dim " + dim + ": unused high bits are zero").isZero();
                }
            }
        }
    }

    @Test
    void zeroTokensQuantizeToZeroScale() {
        float[] zero = new float[10];
        TokenSet i8 = new TokenSet.Builder(TokenStorage.INT8, 10).add(TokenSet.encode(TokenStorage.INT8, zero, 0, 1, 10))
                .build();
        assertThat(i8.scales()[0]).isZero();
        for (int j = 0; j < 10; j++) {
            assertThat(i8.value(0, j)).isZero();
        }
        TokenSet b1 = new TokenSet.Builder(TokenStorage.BIT1, 10).add(TokenSet.encode(TokenStorage.BIT1, zero, 0, 1, 10))
                .build();
        assertThat(b1.scales()[0]).isZero();
        assertThat(b1.bitWords()[0]).isEqualTo((1L << 10) - 1);
    }

    @Test
    void manyDocumentsGrowTheBuilder() {
        Random rnd = new Random(4);
        TokenSet.Builder b = new TokenSet.Builder(TokenStorage.INT8, 33);
        int total = 0;
        for (int d = 0; d < 100; d++) {
            int n = 1 + d % 7;
            b.add(TokenSet.encode(TokenStorage.INT8, gaussian(rnd, n * 33), 0, n, 33));
            total += n;
        }
        assertThat(b.count()).isEqualTo(100);
        TokenSet s = b.build();
        assertThat(s.totalTokens()).isEqualTo(total);
        assertThat(s.offset(99) + s.tokenCount(99)).isEqualTo(total);
        assertThat(s.tokenCount(13)).isEqualTo(1 + 13 % 7);
        assertThat(s.storedBytes()).isEqualTo((long) total * (33 + 4));
    }

    @Test
    void storedFormsThatAreNotWholeTokensAreRefused() {
        assertThat(TokenSet.tokenCount(TokenStorage.BIT1, 100, 3 * 17)).isEqualTo(3);
        assertThat(TokenSet.tokenCount(TokenStorage.INT8, 100, 208)).isEqualTo(2);
        assertThatThrownBy(() -> TokenSet.tokenCount(TokenStorage.INT8, 100, 105))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a stored INT8 document of dim 100 has a multiple of 104 bytes, not 105");
        assertThatThrownBy(() -> TokenSet.tokenCount(TokenStorage.FLOAT32, 4, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 16 bytes, not 0");
        assertThatThrownBy(() -> new TokenSet.Builder(TokenStorage.BIT1, 100).add(new byte[16]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 17 bytes, not 16");
        assertThatThrownBy(() -> new TokenSet.Builder(TokenStorage.FLOAT32, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dim must be positive");
        assertThatThrownBy(() -> TokenSet.encode(TokenStorage.FLOAT32, new float[8], 0, 0, 8))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one token");
        assertThatThrownBy(() -> TokenSet.encode(TokenStorage.INT8, new float[15], 0, 2, 8))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("need 16 values from offset 0, found 15");
    }

    @Test
    void storageSizesAndNames() {
        assertThat(TokenStorage.FLOAT32.bytesPerToken(128)).isEqualTo(512);
        assertThat(TokenStorage.INT8.bytesPerToken(128)).isEqualTo(132);
        assertThat(TokenStorage.BIT1.bytesPerToken(128)).isEqualTo(20);
        assertThat(TokenStorage.BIT1.bytesPerToken(100)).isEqualTo(4 + 13);
        assertThat(TokenStorage.parse("Bit1")).isEqualTo(TokenStorage.BIT1);
        assertThatThrownBy(() -> TokenStorage.parse("int4")).hasMessageContaining("use float32, int8 or bit1");
    }

    @Test
    void queriesCheckTheirOffsets() {
        TokenQueries q = new TokenQueries(new float[5 * 2], new int[] {0, 3, 5}, 2);
        assertThat(q.count()).isEqualTo(2);
        assertThat(q.tokenCount(1)).isEqualTo(2);
        assertThatThrownBy(() -> new TokenQueries(new float[4], new int[] {0, 2, 2}, 2))
                .hasMessageContaining("query 1 has no tokens");
        assertThatThrownBy(() -> new TokenQueries(new float[5], new int[] {0, 2}, 2))
                .hasMessageContaining("offsets say 2 tokens of dim 2 but 5 values");
        assertThatThrownBy(() -> new TokenQueries(new float[4], new int[] {1, 2}, 2))
                .hasMessageContaining("start with 0");
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }
}
