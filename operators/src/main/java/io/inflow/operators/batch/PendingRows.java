package io.inflow.operators.batch;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.api.common.state.OperatorStateStore;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.runtime.streamrecord.StreamElement;
import org.apache.flink.streaming.runtime.streamrecord.StreamElementSerializer;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Where buffered rows (in open batches and in batches still computing) go at a checkpoint barrier, instead of the
 * barrier waiting for compute, as Flink's {@code AsyncWaitOperator} keeps its in-flight elements. On restore they are
 * batched again, exactly once: rows emitted after the barrier belong to the next checkpoint's Kafka transaction, which
 * only commits if that checkpoint completes, in which case they are no longer pending in it.
 *
 * <p>Two stores: operator state for a non-keyed operator ({@link #operatorState}); keyed state for a keyed one
 * ({@link #keyedState}), so that after a rescale each row lands on the instance that owns its key.
 *
 * <pre>{@code
 * PendingRows<IN> pending = PendingRows.operatorState(ctx.getOperatorStateStore(), inSerializer);
 * List<Row<IN>> restored = pending.restore();    // initializeState
 * pending.snapshot(bufferedRows);                 // snapshotState
 * }</pre>
 */
abstract class PendingRows<IN> {

    /** A buffered row: its value, stream timestamp ({@code Long.MIN_VALUE}: none) and key (null when not keyed). */
    record Row<IN>(IN value, long timestamp, Object key) {
        StreamRecord<IN> record() {
            return timestamp == Long.MIN_VALUE ? new StreamRecord<>(value) : new StreamRecord<>(value, timestamp);
        }
    }

    static final String STATE_NAME = "inflow-buffered-rows";

    /** Stores the rows (replacing what the previous checkpoint stored). */
    abstract void snapshot(List<Row<IN>> rows) throws Exception;

    /** The rows the restored checkpoint held (empty on a fresh start). */
    abstract List<Row<IN>> restore() throws Exception;

    private static <IN> ListStateDescriptor<StreamElement> descriptor(TypeSerializer<IN> in) {
        return new ListStateDescriptor<>(STATE_NAME, new StreamElementSerializer<>(in));
    }

    private static <IN> Row<IN> row(StreamElement e, Object key) {
        StreamRecord<IN> r = e.asRecord();
        return new Row<>(r.getValue(), r.hasTimestamp() ? r.getTimestamp() : Long.MIN_VALUE, key);
    }

    /** Rows in the operator's list state (split round-robin over the instances on rescale). */
    static <IN> PendingRows<IN> operatorState(OperatorStateStore store, TypeSerializer<IN> in) throws Exception {
        ListState<StreamElement> state = store.getListState(descriptor(in));
        return new PendingRows<>() {
            @Override
            void snapshot(List<Row<IN>> rows) throws Exception {
                List<StreamElement> out = new ArrayList<>(rows.size());
                for (Row<IN> r : rows) {
                    out.add(r.record());
                }
                state.update(out);
            }

            @Override
            List<Row<IN>> restore() throws Exception {
                List<Row<IN>> out = new ArrayList<>();
                for (StreamElement e : state.get()) {
                    out.add(row(e, null));
                }
                return out;
            }
        };
    }

    /**
     * Rows in keyed list state under their own keys (redistributed with their key groups on rescale). A checkpoint
     * clears the keys the previous one wrote before writing the rows buffered now.
     *
     * @param setKey sets the backend's current key
     */
    static <K, IN> PendingRows<IN> keyedState(KeyedStateBackend<K> backend, TypeSerializer<IN> in,
            Consumer<Object> setKey) throws Exception {
        ListStateDescriptor<StreamElement> desc = descriptor(in);
        ListState<StreamElement> state = backend.getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE, desc);
        Set<Object> written = new HashSet<>();
        return new PendingRows<>() {
            @Override
            void snapshot(List<Row<IN>> rows) throws Exception {
                Object before = backend.getCurrentKey();
                for (Object key : written) {
                    setKey.accept(key);
                    state.clear();
                }
                written.clear();
                for (Row<IN> r : rows) {
                    setKey.accept(r.key());
                    state.add(r.record());
                    written.add(r.key());
                }
                if (before != null) {
                    setKey.accept(before);
                }
            }

            @Override
            List<Row<IN>> restore() throws Exception {
                List<Row<IN>> out = new ArrayList<>();
                backend.applyToAllKeys(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, desc,
                        (key, list) -> {
                            for (StreamElement e : list.get()) {
                                out.add(row(e, key));
                            }
                            written.add(key);
                        });
                return out;
            }
        };
    }
}
