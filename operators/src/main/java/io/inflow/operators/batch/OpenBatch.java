package io.inflow.operators.batch;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.schemas.SourcedText;

import java.util.ArrayList;
import java.util.List;

/**
 * A batch being filled or computed: the Arrow {@link TokenBatch} (what compute reads) plus, per row, the input record
 * and its stream timestamp (what the enriched output needs and compute does not).
 *
 * <p>Owned by the task thread while open, by the compute thread while computing, and by the task thread again when
 * its results are emitted; it is then cleared and reused.
 */
public final class OpenBatch {

    private final int bucket;
    private final TokenBatch tokens;
    private final List<SourcedText> inputs;
    private final long[] timestamps;
    private long openedAtMs = -1;

    public OpenBatch(int bucket, TokenBatch tokens) {
        this.bucket = bucket;
        this.tokens = tokens;
        this.inputs = new ArrayList<>(tokens.capacity());
        this.timestamps = new long[tokens.capacity()];
    }

    /** Adds a row; the first row starts the batch's wait clock. */
    public void add(SourcedText input, long timestamp, int[] ids, boolean truncated, long nowMs) {
        if (inputs.isEmpty()) {
            openedAtMs = nowMs;
        }
        int row = tokens.append(ids, truncated);
        inputs.add(input);
        timestamps[row] = timestamp;
    }

    public int bucket() {
        return bucket;
    }

    public TokenBatch tokens() {
        return tokens;
    }

    public SourcedText input(int row) {
        return inputs.get(row);
    }

    public long timestamp(int row) {
        return timestamps[row];
    }

    public int size() {
        return inputs.size();
    }

    public boolean isEmpty() {
        return inputs.isEmpty();
    }

    public boolean isFull() {
        return tokens.isFull();
    }

    /** Processing time at which the first row arrived, -1 when empty. */
    public long openedAtMs() {
        return openedAtMs;
    }

    /** Empties the batch for reuse; Arrow buffers stay allocated. */
    public void clear() {
        tokens.clear();
        inputs.clear();
        openedAtMs = -1;
    }
}
