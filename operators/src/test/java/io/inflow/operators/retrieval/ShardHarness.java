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

    /**
     * Sends every update to its shard (as keyBy would) and every query to all shards, flushes, and merges each query's
     * partial answers ({@code candidates > 0}: the MaxSim two-stage merge); fails unless every shard answered each.
     */
    static List<RetrievalAnswer> run(List<ShardHarness> shards, List<DocUpdate> updates, List<QueryRow> queries,
            int k, int candidates) throws Exception {
        for (DocUpdate u : updates) {
            for (ShardHarness s : shards) {
                s.corpus(u);
            }
        }
        int[] before = new int[shards.size()];
        for (int i = 0; i < shards.size(); i++) {
            before[i] = shards.get(i).hits().size();
        }
        for (QueryRow q : queries) {
            for (ShardHarness s : shards) {
                s.query(q);
            }
        }
        java.util.Map<String, List<ShardHits>> byQuery = new java.util.HashMap<>();
        for (int i = 0; i < shards.size(); i++) {
            shards.get(i).flush();
            List<ShardHits> hits = shards.get(i).hits();
            for (ShardHits h : hits.subList(before[i], hits.size())) {
                byQuery.computeIfAbsent(h.queryKey(), x -> new ArrayList<>()).add(h);
            }
        }
        List<RetrievalAnswer> answers = new ArrayList<>();
        for (QueryRow q : queries) {
            List<ShardHits> parts = byQuery.getOrDefault(q.key(), List.of());
            if (parts.size() != shards.size()) {
                throw new AssertionError(parts.size() + " of " + shards.size() + " shards answered " + q.key());
            }
            answers.add(MergeShardHits.merge(parts, k, candidates));
        }
        return answers;
    }

    /** Opens {@code parallelism} shards, each restored from its entry of {@code states} when given. */
    static List<ShardHarness> openAll(RetrievalSettings settings, int parallelism, List<OperatorSubtaskState> states)
            throws Exception {
        List<ShardHarness> out = new ArrayList<>();
        for (int i = 0; i < parallelism; i++) {
            out.add(open(settings, i, parallelism, states == null ? null : states.get(i)));
        }
        return out;
    }

    static void closeAll(List<ShardHarness> shards) throws Exception {
        for (ShardHarness s : shards) {
            s.close();
        }
    }
}
