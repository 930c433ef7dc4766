package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A batch being filled or computed: the Arrow batch {@code B} (what compute reads) plus, per row, the input record,
 * its stream timestamp, its key (in a keyed operator) and its arrival sequence number (what emission, watermarks and
 * checkpoints need, and compute does not).
 *
 * <p>Owned by the task thread while open, by the compute thread while computing, and by the task thread again when
 * its results are emitted; it is then cleared and reused.
 *
 * <p>{@code OpenBatch<TokenizedText, TokenBatch> b = new OpenBatch<>(bucket, new TokenBatch(alloc, 64, 128));}
 *
 * @param <IN> the input record type
 * @param <B> the Arrow batch type ({@code TokenBatch}, {@code DecodedImageBatch}, ...); its capacity bounds the inputs
 */
public final class OpenBatch<IN, B extends RowBatch> {

    private final int bucket;
    private final B arrow;
    private final List<IN> inputs;
    private final List<Object> keys;
    private long[] timestamps;
    private long firstSeq = Long.MAX_VALUE;
    private long openedAtMs = -1;
    private Object pinned;

    public OpenBatch(int bucket, B arrow) {
        this.bucket = bucket;
        this.arrow = arrow;
        this.inputs = new ArrayList<>(arrow.capacity());
        this.keys = new ArrayList<>(arrow.capacity());
        this.timestamps = new long[Math.max(1, arrow.capacity())];
    }

    /**
     * Records the input of the row just appended to the Arrow batch; the first row starts the batch's wait clock.
     *
     * @param timestamp the record's stream timestamp, {@code Long.MIN_VALUE} when it has none
     * @param key the row's key in a keyed operator, else null
     * @param seq the row's arrival number (rows arrive in ascending order)
     */
    public void add(IN input, long timestamp, Object key, long seq, long nowMs) {
        if (inputs.isEmpty()) {
            openedAtMs = nowMs;
            firstSeq = seq;
        }
        if (inputs.size() == timestamps.length) {
            timestamps = Arrays.copyOf(timestamps, timestamps.length * 2);
        }
        timestamps[inputs.size()] = timestamp;
        inputs.add(input);
        keys.add(key);
    }

    public int bucket() {
        return bucket;
    }

    /** The Arrow batch. */
    public B arrow() {
        return arrow;
    }

    /** The rows' inputs in row order (a view; do not change it). */
    public List<IN> inputs() {
        return inputs;
    }

    public IN input(int row) {
        return inputs.get(row);
    }

    public long timestamp(int row) {
        return timestamps[row];
    }

    /** The row's key in a keyed operator, else null. */
    public Object key(int row) {
        return keys.get(row);
    }

    public int size() {
        return inputs.size();
    }

    public boolean isEmpty() {
        return inputs.isEmpty();
    }

    /** Arrival number of the first row ({@code Long.MAX_VALUE} when empty): the oldest row this batch holds. */
    public long firstSeq() {
        return firstSeq;
    }

    /** Processing time at which the first row arrived, -1 when empty. */
    public long openedAtMs() {
        return openedAtMs;
    }

    /** Sets the version of shared data the batch computes against ({@code BatchCompute.pin()}). */
    public void pin(Object version) {
        this.pinned = version;
    }

    /** The version {@link #pin} set, or null. */
    public Object pinned() {
        return pinned;
    }

    /** Empties the batch (Arrow rows and inputs) for reuse; Arrow buffers stay allocated. */
    public void clear() {
        pinned = null;
        arrow.clear();
        inputs.clear();
        keys.clear();
        openedAtMs = -1;
        firstSeq = Long.MAX_VALUE;
    }
}
