package io.inflow.operators.retrieval;

import io.inflow.gpu.backend.cpu.ReferenceCpuBackend;
import io.inflow.operators.batch.BatchSettings;
import io.inflow.operators.batch.TwoInputBatchOperatorFactory;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.schemas.DeadLetterRecord;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One index shard (subtask {@code index} of {@code parallelism}) under Flink's generic operator harness, its second
 * input keyed by document id as in the job (Flink's keyed two-input harness takes only operator instances; the
 * batching operator needs its factory for the mailbox). Corpus updates go only to the shard that owns the document's
 * key group, queries to every shard.
 *
 * <p>{@code try (ShardHarness s = ShardHarness.open(settings, 0, 2, null)) { s.corpus(update); s.query(q); }}
 */
final class ShardHarness implements AutoCloseable {

    static final int MAX_PARALLELISM = 128;

    final AbstractStreamOperatorTestHarness<ShardHits> h;
    final int index;
    final int parallelism;

    private ShardHarness(AbstractStreamOperatorTestHarness<ShardHits> h, int index, int parallelism) {
        this.h = h;
        this.index = index;
        this.parallelism = parallelism;
    }

    /** A shard harness, opened, optionally restored from {@code state}. */
    static ShardHarness open(RetrievalSettings settings, int index, int parallelism, OperatorSubtaskState state)
            throws Exception {
        return open(settings, index, parallelism, state, null);
    }

    /**
     * As above; snapshots stream to files under {@code checkpointDir} as a job's do (null: kept in memory, the
     * harness's default, which holds the whole state on the heap a second time).
     */
    static ShardHarness open(RetrievalSettings settings, int index, int parallelism, OperatorSubtaskState state,
            java.nio.file.Path checkpointDir) throws Exception {
        var factory = new TwoInputBatchOperatorFactory<>(
                new RetrievalCompute(settings, () -> new ReferenceCpuBackend(null)),
                new BatchSettings(Duration.ofSeconds(60), 2, "retrieval", "text"));
        var h = new AbstractStreamOperatorTestHarness<ShardHits>(factory, MAX_PARALLELISM, parallelism, index);
        h.getStreamConfig().setStatePartitioner(1, (DocUpdate u) -> u.docId());
        h.getStreamConfig().setStateKeySerializer(
                Types.STRING.createSerializer(h.getExecutionConfig().getSerializerConfig()));
        h.getStreamConfig().serializeAllConfigs();
        if (checkpointDir != null) {
            h.setCheckpointStorage(new org.apache.flink.runtime.state.storage.FileSystemCheckpointStorage(
                    checkpointDir.toUri()));
        }
        h.setup();
        if (state != null) {
            h.initializeState(state);
        }
        h.open();
        return new ShardHarness(h, index, parallelism);
    }

    /** Whether this shard owns {@code docId}'s key group. */
    boolean owns(String docId) {
        return KeyGroupRangeAssignment.assignKeyToParallelOperator(docId, MAX_PARALLELISM, parallelism) == index;
    }

    @SuppressWarnings("unchecked")
    TwoInputStreamOperator<QueryRow, DocUpdate, ShardHits> op() {
        return (TwoInputStreamOperator<QueryRow, DocUpdate, ShardHits>) h.getOperator();
    }

    /** Applies a corpus update when this shard owns the document (as keyBy would route it). */
    void corpus(DocUpdate u) throws Exception {
        if (owns(u.docId())) {
            StreamRecord<DocUpdate> r = new StreamRecord<>(u);
            op().setKeyContextElement2(r);
            op().processElement2(r);
        }
    }

    void query(QueryRow q) throws Exception {
        op().processElement1(new StreamRecord<>(q));
    }

    /** Flushes open batches and waits until every buffered query was answered. */
    void flush() throws Exception {
        ((BoundedMultiInput) op()).endInput(1);
        runMails();
    }

    void runMails() throws Exception {
        Optional<Mail> mail;
        while ((mail = h.getTaskMailbox().tryTake(TaskMailbox.MIN_PRIORITY)).isPresent()) {
            mail.get().run();
        }
    }

    /** The shard answers emitted so far. */
    List<ShardHits> hits() {
        List<ShardHits> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r && r.getValue() instanceof ShardHits s) {
                out.add(s);
            }
        }
        return out;
    }

    /** Dead letters emitted so far. */
    List<DeadLetterRecord> deadLetters() {
        List<DeadLetterRecord> out = new ArrayList<>();
        var side = h.getSideOutput(DeadLetters.TAG);
        if (side != null) {
            for (StreamRecord<DeadLetterRecord> r : side) {
                out.add(r.getValue());
            }
        }
        return out;
    }

    OperatorSubtaskState snapshot(long checkpointId) throws Exception {
        return h.snapshot(checkpointId, checkpointId);
    }

    @Override
    public void close() throws Exception {
        h.close();
    }
}
