package io.inflow.operators.batch;

import org.apache.flink.streaming.api.watermark.Watermark;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * Holds watermarks behind the rows that arrived before them, as Flink's {@code AsyncWaitOperator} does: a watermark
 * is forwarded only when every row that arrived before it has been emitted, so no output can be late with respect
 * to a watermark its input was not late for. Rows are numbered in arrival order; a watermark remembers the number the
 * next row would get.
 *
 * <pre>{@code
 * hold.offer(mark, nextSeq, oldestBufferedSeq, super::processWatermark); // on arrival
 * hold.release(oldestBufferedSeq, super::processWatermark);               // after each emitted batch
 * }</pre>
 */
final class WatermarkHold {

    private record Held(Watermark mark, long beforeSeq) {
    }

    private final ArrayDeque<Held> held = new ArrayDeque<>();

    /**
     * A watermark arrived; {@code nextSeq} is the number of the next row, {@code oldestBuffered} the number of the
     * oldest row not yet emitted ({@code Long.MAX_VALUE} when none). Forwards it at once when nothing older waits.
     */
    void offer(Watermark mark, long nextSeq, long oldestBuffered, Consumer<Watermark> forward) {
        if (held.isEmpty() && oldestBuffered >= nextSeq) {
            forward.accept(mark);
        } else {
            held.add(new Held(mark, nextSeq));
            release(oldestBuffered, forward);
        }
    }

    /** Forwards, in order, every held watermark whose earlier rows have all been emitted. */
    void release(long oldestBuffered, Consumer<Watermark> forward) {
        while (!held.isEmpty() && oldestBuffered >= held.peek().beforeSeq()) {
            forward.accept(held.poll().mark());
        }
    }
}
