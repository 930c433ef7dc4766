package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.quant.IntegerOps;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The vectorised Shiftmax of the fast CPU backend equals {@link IntegerOps#shiftmax} bit for bit on every row shape
 * (1..70 keys: vector body and scalar tail), on ordinary scores, on rows spanning the whole int32 range (the clamp
 * that keeps its arithmetic in 32 bits), on constant rows and on rows with many far-below-max keys.
 */
class FastShiftmaxTest {

    @Test
    void equalsTheReferenceBitForBit() throws Exception {
        Method fast = Class.forName("io.inflow.gpu.backend.cpu.fast.FastShiftmax")
                .getDeclaredMethod("shiftmax", int[].class, int.class, int[].class);
        fast.setAccessible(true);
        Random r = new Random(17);
        int rows = 0;
        for (int n = 1; n <= 70; n++) {
            for (int kind = 0; kind < 5; kind++) {
                int[] s = new int[n];
                for (int j = 0; j < n; j++) {
                    s[j] = switch (kind) {
                        case 0 -> r.nextInt(24 << 10) - (12 << 10);      // ordinary scores, [-12, 12) at 2^-10
                        case 1 -> r.nextInt();                            // anything, overflow-prone differences
                        case 2 -> 5000;                                   // constant row
                        case 3 -> j == n / 2 ? Integer.MAX_VALUE : Integer.MIN_VALUE + r.nextInt(100);
                        default -> r.nextInt(1 << 23) - (1 << 22);        // around the 2^21 clamp
                    };
                }
                int[] want = new int[n];
                int[] got = new int[n];
                IntegerOps.shiftmax(s, 0, n, want, 0);
                fast.invoke(null, s, n, got);
                assertThat(got).as("n=%d kind=%d", n, kind).isEqualTo(want);
                rows++;
            }
        }
        assertThat(rows).isEqualTo(350);
    }
}
