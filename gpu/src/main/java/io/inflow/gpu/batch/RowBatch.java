package io.inflow.gpu.batch;

import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * What every reusable Arrow micro-batch shares: a fixed row capacity, the rows filled so far, the Arrow root they
 * live in, and the fill/clear/close cycle. Subclasses ({@link TokenBatch}, {@link ImageBatch},
 * {@link DecodedImageBatch}) write a row's vectors between {@link #nextRow()} and {@link #commitRow()}.
 *
 * <pre>{@code
 * int row = nextRow();            // throws when full
 * vector.set(row, value);
 * return commitRow();             // row count + 1, the root's row count follows
 * }</pre>
 */
public abstract class RowBatch implements AutoCloseable {

    private final int capacity;
    private int rows;

    protected RowBatch(int capacity) {
        this.capacity = capacity;
    }

    /** The Arrow root the rows live in (for IPC, inspection or a kernel that takes Arrow vectors). */
    public abstract VectorSchemaRoot root();

    /**
     * The index the next row will get.
     *
     * @throws IllegalStateException when the batch is full
     */
    protected final int nextRow() {
        if (rows == capacity) {
            throw new IllegalStateException("batch is full (" + capacity + " rows)");
        }
        return rows;
    }

    /** Counts the row written at {@link #nextRow()} in; returns its index. */
    protected final int commitRow() {
        int row = nextRow();
        rows++;
        root().setRowCount(rows);
        return row;
    }

    /** Forgets all rows; buffers stay allocated for reuse. Subclasses reset their own sums and call this. */
    public void clear() {
        rows = 0;
        root().setRowCount(0);
    }

    public int capacity() {
        return capacity;
    }

    public int rowCount() {
        return rows;
    }

    public boolean isEmpty() {
        return rows == 0;
    }

    public boolean isFull() {
        return rows == capacity;
    }

    /** @throws IndexOutOfBoundsException when {@code row} is not a filled row */
    protected final void checkRow(int row) {
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("row " + row + " outside 0.." + (rows - 1));
        }
    }

    @Override
    public void close() {
        root().close();
    }
}
