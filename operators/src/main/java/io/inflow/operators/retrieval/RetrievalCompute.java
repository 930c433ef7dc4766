package io.inflow.operators.retrieval;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.batch.VectorBatch;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.retrieval.VectorChunk;
import io.inflow.operators.batch.Emitter;
import io.inflow.operators.batch.StateStores;
import io.inflow.operators.batch.TwoInputBatchCompute;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * One shard of the dense-retrieval index, as a two-input batching compute: the corpus (second input, keyed by
 * document id) updates the shard between batches; queries (first input, broadcast to every shard) are batched and
 * searched off the task thread against the version pinned when their batch was handed over; each query gets one
 * {@link ShardHits} per shard, merged later by {@link MergeShardHits}.
 *
 * <p>State: each document's stored vector ({@link VectorChunk#encode}: the float16 or int8 form the index holds, so a
 * restore is bit-exact and the state is as small as the index) and filter value in keyed state (so checkpoints, savepoints and rescaling move
 * documents with their key groups), and the last applied corpus offset per partition in union operator state (the
 * highest over the old instances after a rescale: at a checkpoint every instance had seen the same source position).
 * The in-memory {@link IndexShard} is rebuilt from the keyed state on restore.
 *
 * <p>Order: changes of one document may arrive out of corpus order (a delete skips embedding; upserts of different
 * lengths are batched apart), so each document keeps the partition and offset of the change applied last, also
 * after a delete (a tombstone), and an older change of the same partition is ignored: the index always ends as the
 * corpus topic's last record of the document says. (A document's records share a partition when the corpus is keyed
 * by document id, as it must be for compaction; across partitions the later arrival wins.)
 *
 * <pre>{@code
 * DataStream<ShardHits> hits = queries.broadcast().connect(corpus.keyBy(DocUpdate::docId))
 *         .transform("retrieve", TypeInformation.of(ShardHits.class),
 *                 new TwoInputBatchOperatorFactory<>(new RetrievalCompute(settings, backend), batchSettings));
 * }</pre>
 */
public final class RetrievalCompute implements TwoInputBatchCompute<QueryRow, VectorBatch, RetrievalCompute.Result,
        ShardHits, DocUpdate> {

    private static final long serialVersionUID = 1L;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RetrievalCompute.class);
    /** Stage of the dead letters of corpus records and queries the index refuses. */
    public static final String STAGE = "retrieval";
    /** Keyed state of each document's vector (its name is how the shard finds every document on restore). */
    static final String VECTOR_STATE = "retrieval-vector";

    /** Opens the backend whose {@link Family#RETRIEVAL} kernels search (on the compute thread's side). */
    @FunctionalInterface
    public interface BackendFactory extends Serializable {
        Backend open() throws Exception;
    }

    /** A batch's answer: the version searched and the hits. */
    public record Result(IndexVersion version, TopK top) {
    }

    private final RetrievalSettings settings;
    private final BackendFactory backendFactory;
    private transient String job;
    private transient io.prometheus.metrics.core.datapoints.GaugeDataPoint documents;
    private transient io.prometheus.metrics.core.datapoints.GaugeDataPoint bytes;
    private transient int shard;
    private transient int shards;
    private transient IndexShard index;
    private transient ValueState<byte[]> vectors;
    private transient ValueState<String> filters;
    private transient ValueState<long[]> appliedAt;
    private transient ListState<long[]> offsets;
    private transient Backend backend;

    public RetrievalCompute(RetrievalSettings settings, BackendFactory backendFactory) {
        this.settings = settings;
        this.backendFactory = backendFactory;
    }

    @Override
    public void taskInfo(String job, int subtask, int parallelism) {
        this.job = job;
        this.shard = subtask;
        this.shards = parallelism;
    }

    /** Sets the shard's gauges (task thread). */
    private void updateGauges() {
        if (documents != null) {
            documents.set(index.documents());
            bytes.set(index.bytesUsed());
        }
    }

    @Override
    public void initializeState(StateStores stores) throws Exception {
        index = new IndexShard(settings.storage(), settings.dim(), settings.chunkCapacity());
        vectors = stores.requireKeyed().getState(new ValueStateDescriptor<>(VECTOR_STATE,
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        filters = stores.requireKeyed().getState(new ValueStateDescriptor<>("retrieval-filter", Types.STRING));
        appliedAt = stores.requireKeyed().getState(new ValueStateDescriptor<>("retrieval-applied-at",
                PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        offsets = stores.operator().getUnionListState(new ListStateDescriptor<>("retrieval-offsets",
                PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        if (stores.restored()) {
            for (long[] po : offsets.get()) {
                index.applied((int) po[0], po[1]);
            }
            long t0 = System.nanoTime();
            stores.forEachKey(VECTOR_STATE, key -> index.upsertStored((String) key, vectors.value(), filters.value(),
                    -1, -1));
            saveOffsets(); // this instance's own view from now on (the union is read once)
            LOG.info("index shard {} of {} rebuilt from state: {} documents, {} MB, last corpus offsets {}, in {} ms",
                    shard, shards, index.documents(), index.bytesUsed() >> 20, index.lastOffsets(),
                    (System.nanoTime() - t0) / 1_000_000);
        }
    }

    // ---- the corpus (task thread, keyed by document id) -------------------------------------------

    @Override
    public void processSide(DocUpdate u, Emitter<ShardHits> out) throws Exception {
        RawRecord raw = u.raw();
        long[] last = appliedAt.value();
        if (last != null && last[0] == raw.partition() && raw.offset() <= last[1]) {
            // an older change overtaken by a newer one of the same document (a delete skips embedding; upserts of
            // different lengths are batched apart): the newer one stands
            index.applied(raw.partition(), raw.offset());
            return;
        }
        appliedAt.update(new long[] {raw.partition(), raw.offset()}); // kept after a delete: a tombstone
        if (u.isDelete()) {
            vectors.clear();
            filters.clear();
            index.delete(u.docId(), raw.partition(), raw.offset());
        } else {
            String problem = problem(u.vector());
            if (problem != null) {
                out.deadLetter(DeadLetters.of(raw, ErrorKind.INVALID_FIELD, "corpus document " + u.docId() + ": "
                        + problem, STAGE, System.currentTimeMillis()));
                index.applied(raw.partition(), raw.offset());
            } else {
                // the state keeps the stored form (2 bytes a value for float16, 1 for int8), not the float32 input
                byte[] stored = VectorChunk.encode(settings.storage(), u.vector(), 0, settings.dim());
                vectors.update(stored);
                if (u.filterValue() == null) {
                    filters.clear();
                } else {
                    filters.update(u.filterValue());
                }
                index.upsertStored(u.docId(), stored, u.filterValue(), raw.partition(), raw.offset());
            }
        }
        saveOffsets();
        updateGauges();
    }

    private String problem(float[] vector) {
        if (vector.length != settings.dim()) {
            return "embedding has " + vector.length + " values, the index holds " + settings.dim();
        }
        for (int i = 0; i < vector.length; i++) {
            if (!Float.isFinite(vector[i])) {
                return "embedding[" + i + "] is " + vector[i];
            }
        }
        return null;
    }

    private void saveOffsets() throws Exception {
        Map<Integer, Long> last = index.lastOffsets();
        List<long[]> list = last.entrySet().stream().map(e -> new long[] {e.getKey(), e.getValue()}).toList();
        offsets.update(list);
    }

    // ---- the queries (batched) --------------------------------------------------------------------

    @Override
    public VectorBatch newBatch(BufferAllocator allocator, int bucket) {
        return new VectorBatch(allocator, settings.dim(), settings.maxBatchRows());
    }

    @Override
    public void append(VectorBatch batch, QueryRow input) {
        batch.append(input.vector());
    }

    @Override
    public RawRecord raw(QueryRow input) {
        return input.raw();
    }

    @Override
    public DeadLetterRecord rejected(QueryRow input, long nowMs) {
        String problem = problem(input.vector());
        return problem == null ? null : DeadLetters.of(input.raw(), ErrorKind.INVALID_FIELD, "query: " + problem,
                STAGE, nowMs);
    }

    @Override
    public void open() throws Exception {
        backend = backendFactory.open();
        backend.require(Family.RETRIEVAL);
        String label = job == null ? "" : job;
        documents = InflowMetrics.INDEX_DOCUMENTS.labelValues(label, Integer.toString(shard));
        bytes = InflowMetrics.INDEX_BYTES.labelValues(label, Integer.toString(shard));
        updateGauges();
    }

    @Override
    public ModelRef model() {
        return new ModelRef("retrieval", settings.metric().name().toLowerCase(java.util.Locale.ROOT) + "/"
                + settings.storage().name().toLowerCase(java.util.Locale.ROOT) + "/k" + settings.k());
    }

    @Override
    public String backend() {
        return backend == null ? "unopened" : backend.name();
    }

    @Override
    public Object pin() {
        return index.pin();
    }

    @Override
    public Result compute(VectorBatch batch, List<QueryRow> inputs) {
        throw new IllegalStateException("retrieval batches are always pinned to an index version");
    }

    @Override
    public Result compute(VectorBatch batch, List<QueryRow> inputs, Object pinned) {
        IndexVersion version = (IndexVersion) pinned;
        int dim = settings.dim();
        float[] queries = new float[inputs.size() * dim];
        int[] codes = new int[inputs.size()];
        for (int q = 0; q < inputs.size(); q++) {
            System.arraycopy(inputs.get(q).vector(), 0, queries, q * dim, dim);
            codes[q] = version.filterCode(inputs.get(q).filterValue());
        }
        TopK top = backend.retrieval().search(version.chunks(),
                new SearchRequest(queries, inputs.size(), dim, settings.k(), settings.metric(), codes));
        return new Result(version, top);
    }

    @Override
    public int resultRows(Result result) {
        return result.top().queries();
    }

    @Override
    public void emit(QueryRow input, int row, Result result, Emitter<ShardHits> out) {
        TopK top = result.top();
        int n = top.hits(row);
        String[] ids = new String[n];
        float[] scores = new float[n];
        for (int i = 0; i < n; i++) {
            ids[i] = result.version().docId(top.chunk(row, i), top.row(row, i));
            scores[i] = top.score(row, i);
        }
        out.collect(new ShardHits(input.key(), shard, shards, ids, scores, result.version().documents(),
                result.version().lastOffsets(), shard == 0 ? input : null));
    }

    @Override
    public void close() {
        if (documents != null) {
            String label = job == null ? "" : job;
            InflowMetrics.INDEX_DOCUMENTS.remove(label, Integer.toString(shard));
            InflowMetrics.INDEX_BYTES.remove(label, Integer.toString(shard));
            documents = null;
        }
        if (backend != null) {
            backend.close();
            backend = null;
        }
    }
}
