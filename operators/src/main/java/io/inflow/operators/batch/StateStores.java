package io.inflow.operators.batch;

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
 */
public record StateStores(KeyedStateStore keyed, OperatorStateStore operator, boolean restored) {

    /** The keyed state, or an error saying the input must be keyed. */
    public KeyedStateStore requireKeyed() {
        if (keyed == null) {
            throw new IllegalStateException("this batch compute keeps keyed state: key its input stream (keyBy)");
        }
        return keyed;
    }
}
