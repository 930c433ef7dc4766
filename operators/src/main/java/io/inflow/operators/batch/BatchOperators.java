package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;
import io.inflow.operators.metrics.MetricsOptions;
import io.inflow.operators.runtime.ArrowMemory;
import io.inflow.operators.runtime.ArrowMemoryOptions;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.runtime.kryo.KryoSerializer;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.api.operators.Output;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.ProcessingTimeService;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;

/**
 * What {@link BatchOperator} and {@link TwoInputBatchOperator} share around their {@link BatchCore}: where buffered
 * rows are checkpointed, the compute's state stores, the core's view of the operator, and opening the core (its Arrow
 * memory, name and metrics endpoint).
 */
final class BatchOperators {

    private BatchOperators() {
    }

    /** Buffered rows in keyed state when the rows are keyed (they follow their keys), else in operator state. */
    static <IN> PendingRows<IN> pendingRows(AbstractStreamOperator<?> op, StateInitializationContext context,
            boolean rowsKeyed) throws Exception {
        TypeSerializer<IN> in = inputSerializer(op, 0);
        return rowsKeyed
                ? PendingRows.keyedState(op.getKeyedStateBackend(), in, op::setCurrentKey)
                : PendingRows.operatorState(context.getOperatorStateStore(), in);
    }

    /** The state stores a compute registers its own state in. */
    static StateStores stateStores(AbstractStreamOperator<?> op, StateInitializationContext context) {
        return new StateStores(op.getKeyedStateBackend() != null ? op.getKeyedStateStore() : null,
                context.getOperatorStateStore(), context.isRestored(), op.getKeyedStateBackend());
    }

    /** Passes a watermark on through the operator's own handling (which advances its timers). */
    @FunctionalInterface
    interface WatermarkForward {
        void forward(Watermark mark) throws Exception;
    }

    /** The core's view of the operator. */
    static <OUT> BatchCore.Host<OUT> host(AbstractStreamOperator<OUT> op, Output<StreamRecord<OUT>> output,
            ProcessingTimeService timers, MailboxExecutor mailbox, WatermarkForward forward, boolean rowsKeyed) {
        return new BatchCore.Host<>() {
            @Override
            public Output<StreamRecord<OUT>> output() {
                return output;
            }

            @Override
            public ProcessingTimeService timers() {
                return timers;
            }

            @Override
            public MailboxExecutor mailbox() {
                return mailbox;
            }

            @Override
            public Object currentKey() {
                return rowsKeyed ? op.getCurrentKey() : null;
            }

            @Override
            public void setCurrentKey(Object key) {
                op.setCurrentKey(key);
            }

            @Override
            public void forwardWatermark(Watermark mark) throws Exception {
                forward.forward(mark);
            }
        };
    }

    /** The serializer of input {@code index}; Kryo when the test harness or the graph did not set one. */
    @SuppressWarnings("unchecked")
    static <IN> TypeSerializer<IN> inputSerializer(AbstractStreamOperator<?> op, int index) {
        TypeSerializer<IN> s;
        try {
            s = op.getOperatorConfig().getTypeSerializerIn(index, op.getUserCodeClassloader());
        } catch (IllegalStateException notSet) {
            s = null; // a test harness without an input serializer
        }
        return s != null ? s : new KryoSerializer<>((Class<IN>) Object.class, new SerializerConfigImpl());
    }

    static <IN, B extends RowBatch, R, OUT> BatchCore<IN, B, R, OUT> openCore(AbstractStreamOperator<OUT> op,
            String operatorName, BatchCompute<IN, B, R, OUT> compute, BatchSettings settings, BatchCore.Host<OUT> host)
            throws Exception {
        Configuration tm = op.getContainingTask().getEnvironment().getTaskManagerInfo().getConfiguration();
        Configuration job = op.getContainingTask().getJobConfiguration();
        String name = operatorName + "-" + op.getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        ArrowMemory.Child memory = ArrowMemory.child(name, ArrowMemoryOptions.maxBytes(tm, job));
        BatchCore<IN, B, R, OUT> core = new BatchCore<>(compute, settings, host, name, memory);
        try {
            core.open(op.getRuntimeContext().getJobInfo().getJobName(), MetricsOptions.settings(tm, job));
        } catch (Exception | Error e) {
            try {
                core.close(); // stops the compute thread, frees the memory taken so far
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return core;
    }
}
