package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.OutOfDeviceMemoryException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The device pool's bookkeeping, without a GPU: alignment, best fit, coalescing, the out-of-memory message. */
class BestFitAllocatorTest {
    static final long A = BestFitAllocator.ALIGNMENT;

    @Test
    void alignsAndPicksTheSmallestBlockThatFits() {
        BestFitAllocator pool = new BestFitAllocator(16 * A);
        long a = pool.allocate(1);          // [0, A)
        long b = pool.allocate(3 * A);      // [A, 4A)
        long c = pool.allocate(A + 1);      // [4A, 6A)
        long d = pool.allocate(A);          // [6A, 7A)
        assertThat(new long[] {a, b, c, d}).containsExactly(0, A, 4 * A, 6 * A);
        pool.free(b);                       // hole of 3A at A
        pool.free(d);                       // hole of A at 6A, merged with the tail [7A, 16A): 10A at 6A
        assertThat(pool.allocate(2 * A)).as("best fit: the 3A hole, not the 10A tail").isEqualTo(A);
        assertThat(pool.usedBytes()).isEqualTo(A + 2 * A + 2 * A);
        assertThat(pool.allocate(0)).as("zero bytes still get a distinct block").isEqualTo(3 * A);
    }

    @Test
    void freeingEverythingCoalescesIntoOneBlock() {
        BestFitAllocator pool = new BestFitAllocator(64 * A);
        Random rnd = new Random(7);
        List<Long> live = new ArrayList<>();
        for (int round = 0; round < 2000; round++) {
            if (live.isEmpty() || rnd.nextBoolean()) {
                try {
                    live.add(pool.allocate(1 + rnd.nextInt((int) (4 * A))));
                } catch (OutOfDeviceMemoryException e) {
                    assertThat(e.largestFreeBlock()).isLessThan(4 * A + A);
                }
            } else {
                pool.free(live.remove(rnd.nextInt(live.size())));
            }
        }
        live.forEach(pool::free);
        assertThat(pool.liveBlocks()).isZero();
        assertThat(pool.freeBlocks()).isEqualTo(1);
        assertThat(pool.largestFreeBlock()).isEqualTo(64 * A);
    }

    @Test
    void outOfMemoryNamesRequestedAndFreeBytes() {
        BestFitAllocator pool = new BestFitAllocator(4 * A);
        pool.allocate(A);
        long middle = pool.allocate(A);
        pool.allocate(A);
        pool.free(middle);    // 2A free, but in two blocks of A
        assertThatThrownBy(() -> pool.allocate(2 * A))
                .isInstanceOf(OutOfDeviceMemoryException.class)
                .hasMessageContaining("requested " + 2 * A + " bytes")
                .hasMessageContaining(2 * A + " free (largest free block " + A + ")")
                .hasMessageContaining("pool of " + 4 * A + " bytes");
    }

    @Test
    void doubleFreeFails() {
        BestFitAllocator pool = new BestFitAllocator(4 * A);
        long a = pool.allocate(10);
        pool.free(a);
        assertThatThrownBy(() -> pool.free(a)).hasMessageContaining("not allocated");
    }
}
