package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;

import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;


/**
 * A one-input batching operator running a {@link BatchCompute}: rows are collected into Arrow batches, computed off
 * the task thread, and emitted in row order ({@link BatchCore}). On a keyed stream it is the keyed variant: each row
 * remembers its key, {@link BatchCompute#emit} runs with that key set (keyed state works there), and buffered rows
 * are checkpointed in keyed state, so they follow their keys through a rescale.
 *
 * <p>Checkpoints do not wait for compute: the rows of open batches and of batches still computing go into state at
 * the barrier ({@link PendingRows}) and are batched again after a restore. Watermarks wait behind buffered rows.
 *
 * <pre>{@code
 * DataStream<EncodedRecord> out = tokenized.transform("embed", TypeInformation.of(EncodedRecord.class),
 *         new BatchOperatorFactory<>(textCompute, new BatchSettings(Duration.ofMillis(50), 2, "embed", "text")));
 * }</pre>
 */
public class BatchOperator<IN, B extends RowBatch, R, OUT> extends AbstractBatchOperator<IN, B, R, OUT>
        implements OneInputStreamOperator<IN, OUT>, BoundedOneInput {

    private static final long serialVersionUID = 1L;

    public BatchOperator(StreamOperatorParameters<OUT> parameters, BatchCompute<IN, B, R, OUT> compute,
            BatchSettings settings) {
        super(parameters, compute, settings);
    }

    @Override
    public void processElement(StreamRecord<IN> element) throws Exception {
        core().processElement(element);
    }

    @Override
    public void endInput() throws Exception {
        core().flushAndDrain();
    }
}
