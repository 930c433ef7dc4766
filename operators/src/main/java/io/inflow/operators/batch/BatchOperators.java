package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;
import io.inflow.operators.metrics.MetricsOptions;
import io.inflow.operators.runtime.ArrowMemory;
import io.inflow.operators.runtime.ArrowMemoryOptions;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.runtime.kryo.KryoSerializer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;

/** Opening a {@link BatchCore} inside a Flink operator: its Arrow memory, its name, its metrics endpoint. */
final class BatchOperators {

    private BatchOperators() {
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
