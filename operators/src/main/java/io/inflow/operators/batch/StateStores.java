package io.inflow.operators.batch;

import org.apache.flink.runtime.state.KeyedStateBackend;

import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.api.common.state.OperatorStateStore;

/**
 * The operator's state, for a {@link BatchCompute} that keeps its own (a per-key running aggregate, an index): keyed
 * state when the operator's input is keyed (read and written in {@link BatchCompute#emit}, where the row's key is
 * set), and operator state.
 *
 * <p>{@code ValueState<float[]> sum = stores.keyed().getState(new ValueStateDescriptor<>("sum", float[].class));}
 *
 * @param keyed null when the operator's input is not keyed
 * @param operator the operator's (non-keyed) state
 * @param restored whether the operator starts from a checkpoint or savepoint
 * @param keyedBackend the keyed backend (null when not keyed), for {@link #forEachKey}
 */
public record StateStores(KeyedStateStore keyed, OperatorStateStore operator, boolean restored,
        KeyedStateBackend<?> keyedBackend) {

    public StateStores(KeyedStateStore keyed, OperatorStateStore operator, boolean restored) {
        this(keyed, operator, restored, null);
    }

    /**
     * Calls {@code action} for every key that has a value in the keyed state named {@code stateName}, with that key
     * set as the current key (so the state reads the key's value); restores the previous key afterwards. This is how
     * a compute rebuilds an in-memory structure (an index) from its keyed state on restore, including after a
     * rescale, when its key groups came from other instances. Task thread only.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void forEachKey(String stateName, KeyAction action) throws Exception {
        if (keyedBackend == null) {
            throw new IllegalStateException("this batch compute keeps keyed state: key its input stream (keyBy)");
        }
        KeyedStateBackend backend = keyedBackend;
        Object before = backend.getCurrentKey();
        java.util.List<Object> keys;
        try (java.util.stream.Stream<Object> s = backend.getKeys(stateName,
                org.apache.flink.runtime.state.VoidNamespace.INSTANCE)) {
            keys = s.toList(); // collected first: setting the current key while the stream is open is not allowed
        }
        try {
            for (Object key : keys) {
                backend.setCurrentKey(key);
                action.accept(key);
            }
        } finally {
            if (before != null) {
                backend.setCurrentKey(before);
            }
        }
    }

    /** The keyed state, or an error saying the input must be keyed. */
    public KeyedStateStore requireKeyed() {
        if (keyed == null) {
            throw new IllegalStateException("this batch compute keeps keyed state: key its input stream (keyBy)");
        }
        return keyed;
    }

    /** What {@link #forEachKey} does per key. */
    @FunctionalInterface
    public interface KeyAction {
        void accept(Object key) throws Exception;
    }
}
