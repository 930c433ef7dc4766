package io.inflow.operators.batch;

import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EncodedRecord;

/**
 * What a computed batch turns into, row by row in the batch's order: the encoded output record, or the row's dead
 * letter. Built on the compute thread by {@link BisectingRunner}, emitted on the task thread.
 *
 * <p>{@code Object o = result.row(3); if (o instanceof EncodedRecord r) ... else if (o instanceof DeadLetterRecord d) ...}
 */
final class BatchResult {

    private final Object[] rows;
    private final long computeNanos;
    private final int computeCalls;

    BatchResult(Object[] rows, long computeNanos, int computeCalls) {
        for (int i = 0; i < rows.length; i++) {
            if (!(rows[i] instanceof EncodedRecord) && !(rows[i] instanceof DeadLetterRecord)) {
                throw new IllegalStateException("row " + i + " of a batch of " + rows.length + " has no outcome");
            }
        }
        this.rows = rows;
        this.computeNanos = computeNanos;
        this.computeCalls = computeCalls;
    }

    int rows() {
        return rows.length;
    }

    /** An {@link EncodedRecord} or a {@link DeadLetterRecord}. */
    Object row(int i) {
        return rows[i];
    }

    /** Wall time on the compute thread, bisection included. */
    long computeNanos() {
        return computeNanos;
    }

    /** Model calls made: 1 for a batch that computed at once, more when it was bisected. */
    int computeCalls() {
        return computeCalls;
    }
}
