package io.inflow.operators.batch;

import io.inflow.schemas.DeadLetterRecord;

import java.util.ArrayList;
import java.util.List;

/**
 * What a computed batch turns into: the results of the parts that computed (the whole batch, or the halves a
 * failing batch was bisected into) and the dead letters of the rows that failed on their own. Built on the compute
 * thread by {@link BisectingRunner}, emitted row by row, in row order, on the task thread.
 *
 * <p>{@code for (int row = 0; row < r.rows(); row++) { if (r.failure(row) != null) ...; else r.partOf(row) ... }}
 *
 * @param <IN> input row
 * @param <R> compute's result of one part
 */
final class BatchResult<IN, R> {

    /** Rows {@code from .. from + inputs.size()} of the batch, computed together into {@code result}. */
    record Part<IN, R>(int from, List<IN> inputs, R result) {
    }

    private final List<Part<IN, R>> parts = new ArrayList<>();
    private final DeadLetterRecord[] failures;
    private final Part<IN, R>[] partOfRow;
    private long computeNanos;
    private int computeCalls;

    @SuppressWarnings("unchecked")
    BatchResult(int rows) {
        failures = new DeadLetterRecord[rows];
        partOfRow = new Part[rows];
    }

    void part(int from, List<IN> inputs, R result) {
        Part<IN, R> p = new Part<>(from, List.copyOf(inputs), result);
        parts.add(p);
        for (int i = 0; i < inputs.size(); i++) {
            partOfRow[from + i] = p;
        }
    }

    void failure(int row, DeadLetterRecord letter) {
        failures[row] = letter;
    }

    void finish(long nanos, int calls) {
        for (int i = 0; i < failures.length; i++) {
            if (failures[i] == null && partOfRow[i] == null) {
                throw new IllegalStateException("row " + i + " of a batch of " + failures.length + " has no outcome");
            }
        }
        parts.sort((a, b) -> Integer.compare(a.from(), b.from()));
        this.computeNanos = nanos;
        this.computeCalls = calls;
    }

    int rows() {
        return failures.length;
    }

    /** The dead letter of a row that failed compute on its own, else null. */
    DeadLetterRecord failure(int row) {
        return failures[row];
    }

    /** The part a computed row belongs to (null for a failed row). */
    Part<IN, R> partOf(int row) {
        return partOfRow[row];
    }

    /** The computed parts in row order. */
    List<Part<IN, R>> parts() {
        return parts;
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
