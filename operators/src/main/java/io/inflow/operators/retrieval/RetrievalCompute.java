package io.inflow.operators.retrieval;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.batch.VectorBatch;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.TokenQueries;
import io.inflow.gpu.retrieval.TokenSet;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.retrieval.VectorChunk;
import io.inflow.operators.batch.Emitter;
import io.inflow.operators.batch.StateStores;
import io.inflow.operators.batch.TwoInputBatchCompute;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.operators.retrieval.RetrievalSettings.Rerank;
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

    /** Keyed state of each document's stored token vectors (MaxSim rerank only). */
    static final String TOKEN_STATE = "retrieval-tokens";

    /**
     * A batch's answer: the version searched, the first-stage hits and, with rerank, each hit's MaxSim score
     * ({@code maxSim[query][hit]}; NaN for a document without token vectors, which the rerank drops).
     */
    public record Result(IndexVersion version, TopK top, float[][] maxSim) {
    }

    /** The {@code index} label of the text index's gauges. */
    public static final String TEXT_INDEX = "text";
    /** The {@code index} label of the image index's gauges. */
    public static final String IMAGE_INDEX = "image";

    private final RetrievalSettings settings;
    private final BackendFactory backendFactory;
    private final String indexName;
    private transient String job;
    private transient io.prometheus.metrics.core.datapoints.GaugeDataPoint documents;
    private transient io.prometheus.metrics.core.datapoints.GaugeDataPoint bytes;
    private transient int shard;
    private transient int shards;
    private transient IndexShard index;
    private transient ValueState<byte[]> vectors;
    private transient ValueState<String> filters;
    private transient ValueState<byte[]> tokenState;
    private transient ValueState<long[]> appliedAt;
    private transient ListState<long[]> offsets;
    private transient Backend backend;

    public RetrievalCompute(RetrievalSettings settings, BackendFactory backendFactory) {
        this(settings, backendFactory, TEXT_INDEX);
    }

    /** @param indexName which index this is ({@link #TEXT_INDEX}, {@link #IMAGE_INDEX}): its gauges' label */
    public RetrievalCompute(RetrievalSettings settings, BackendFactory backendFactory, String indexName) {
        this.settings = settings;
        this.backendFactory = backendFactory;
        this.indexName = java.util.Objects.requireNonNull(indexName, "indexName");
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
        tokenState = stores.requireKeyed().getState(new ValueStateDescriptor<>(TOKEN_STATE,
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        appliedAt = stores.requireKeyed().getState(new ValueStateDescriptor<>("retrieval-applied-at",
                PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        offsets = stores.operator().getUnionListState(new ListStateDescriptor<>("retrieval-offsets",
                PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        if (stores.restored()) {
            for (long[] po : offsets.get()) {
                index.applied((int) po[0], po[1]);
            }
            long t0 = System.nanoTime();
            stores.forEachKey(VECTOR_STATE, key -> index.upsertStored((String) key, vectors.value(),
                    settings.rerank() == null ? null : tokenState.value(), filters.value(), -1, -1));
            saveOffsets(); // this instance's own view from now on (the union is read once)
            LOG.info("{} index shard {} of {} rebuilt from state: {} documents, {} MB, last corpus offsets {}, in {} ms",
                    indexName, shard, shards, index.documents(), index.bytesUsed() >> 20, index.lastOffsets(),
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
            tokenState.clear();
            index.delete(u.docId(), raw.partition(), raw.offset());
        } else {
            String problem = problem(u.vector());
            if (problem == null) {
                problem = tokenProblem(u.tokens());
            }
            if (problem != null) {
                out.deadLetter(DeadLetters.of(raw, ErrorKind.INVALID_FIELD, "corpus document " + u.docId() + ": "
                        + problem, STAGE, System.currentTimeMillis()));
                index.applied(raw.partition(), raw.offset());
            } else {
                // the state keeps the stored form (2 bytes a value for float16, 1 for int8), not the float32 input
                byte[] stored = VectorChunk.encode(settings.storage(), u.vector(), 0, settings.dim());
                vectors.update(stored);
                byte[] storedTokens = null;
                if (settings.rerank() != null) {
                    Rerank r = settings.rerank();
                    storedTokens = TokenSet.encode(r.storage(), u.tokens(), 0, u.tokens().length / r.tokenDim(),
                            r.tokenDim());
                    tokenState.update(storedTokens);
                } else {
                    tokenState.clear();
                }
                if (u.filterValue() == null) {
                    filters.clear();
                } else {
                    filters.update(u.filterValue());
                }
                index.upsertStored(u.docId(), stored, storedTokens, u.filterValue(), raw.partition(), raw.offset());
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

    /** With rerank on: null when {@code tokens} is a usable run of token vectors, else what is wrong. */
    private String tokenProblem(float[] tokens) {
        Rerank r = settings.rerank();
        if (r == null) {
            return null;
        }
        if (tokens == null || tokens.length == 0) {
            return "MaxSim rerank needs token vectors, none came with it";
        }
        if (tokens.length % r.tokenDim() != 0) {
            return "token vectors hold " + tokens.length + " values, not a multiple of the token dim " + r.tokenDim();
        }
        for (int i = 0; i < tokens.length; i++) {
            if (!Float.isFinite(tokens[i])) {
                return "token vector value " + i + " is " + tokens[i];
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
        if (problem == null) {
            problem = tokenProblem(input.tokens());
        }
        return problem == null ? null : DeadLetters.of(input.raw(), ErrorKind.INVALID_FIELD, "query: " + problem,
                STAGE, nowMs);
    }

    @Override
    public void open() throws Exception {
        backend = backendFactory.open();
        backend.require(Family.RETRIEVAL);
        String label = job == null ? "" : job;
        documents = InflowMetrics.INDEX_DOCUMENTS.labelValues(label, Integer.toString(shard), indexName);
        bytes = InflowMetrics.INDEX_BYTES.labelValues(label, Integer.toString(shard), indexName);
        updateGauges();
    }

    @Override
    public ModelRef model() {
        Rerank r = settings.rerank();
        return new ModelRef("retrieval", settings.metric().name().toLowerCase(java.util.Locale.ROOT) + "/"
                + settings.storage().name().toLowerCase(java.util.Locale.ROOT) + "/k" + settings.k()
                + (r == null ? "" : "/maxsim-" + r.storage().name().toLowerCase(java.util.Locale.ROOT) + "@"
                        + r.candidates()));
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
                new SearchRequest(queries, inputs.size(), dim, settings.firstStageK(), settings.metric(), codes));
        return new Result(version, top, settings.rerank() == null ? null : rerank(version, top, inputs));
    }

    /**
     * MaxSim of every query's tokens against each of its candidates' stored tokens: one {@link TokenSet} of the
     * distinct candidates of the batch, one kernel call for all pairs.
     */
    private float[][] rerank(IndexVersion version, TopK top, List<QueryRow> inputs) {
        Rerank r = settings.rerank();
        TokenSet.Builder docs = new TokenSet.Builder(r.storage(), r.tokenDim());
        Map<Long, Integer> docIndex = new java.util.HashMap<>();
        int pairs = 0;
        for (int q = 0; q < top.queries(); q++) {
            pairs += top.hits(q);
        }
        int[] pairQuery = new int[pairs];
        int[] pairDoc = new int[pairs];
        int[] pairSlot = new int[pairs];
        int p = 0;
        for (int q = 0; q < top.queries(); q++) {
            for (int i = 0; i < top.hits(q); i++) {
                int chunk = top.chunk(q, i);
                int row = top.row(q, i);
                byte[] stored = version.tokens(chunk, row);
                if (stored == null) {
                    continue;   // indexed before rerank was on: not a rerank candidate
                }
                Integer d = docIndex.get(((long) chunk << 32) | row);
                if (d == null) {
                    d = docs.count();
                    docs.add(stored);
                    docIndex.put(((long) chunk << 32) | row, d);
                }
                pairQuery[p] = q;
                pairDoc[p] = d;
                pairSlot[p] = i;
                p++;
            }
        }
        float[][] out = new float[top.queries()][];
        for (int q = 0; q < top.queries(); q++) {
            out[q] = new float[top.hits(q)];
            java.util.Arrays.fill(out[q], Float.NaN);
        }
        if (p == 0) {
            return out;
        }
        int tokenCount = 0;
        for (QueryRow in : inputs) {
            tokenCount += in.tokens().length / r.tokenDim();
        }
        float[] qt = new float[tokenCount * r.tokenDim()];
        int[] offsets = new int[inputs.size() + 1];
        for (int q = 0; q < inputs.size(); q++) {
            float[] t = inputs.get(q).tokens();
            System.arraycopy(t, 0, qt, offsets[q] * r.tokenDim(), t.length);
            offsets[q + 1] = offsets[q] + t.length / r.tokenDim();
        }
        float[] scores = backend.retrieval().maxSim(new TokenQueries(qt, offsets, r.tokenDim()), docs.build(),
                java.util.Arrays.copyOf(pairQuery, p), java.util.Arrays.copyOf(pairDoc, p));
        for (int i = 0; i < p; i++) {
            out[pairQuery[i]][pairSlot[i]] = scores[i];
        }
        return out;
    }

    @Override
    public int resultRows(Result result) {
        return result.top().queries();
    }

    @Override
    public void emit(QueryRow input, int row, Result result, Emitter<ShardHits> out) {
        TopK top = result.top();
        int n = top.hits(row);
        float[] maxSim = result.maxSim() == null ? null : result.maxSim()[row];
        int kept = 0;
        for (int i = 0; i < n; i++) {
            kept += maxSim == null || !Float.isNaN(maxSim[i]) ? 1 : 0;
        }
        String[] ids = new String[kept];
        float[] scores = new float[kept];
        float[] first = maxSim == null ? null : new float[kept];
        int j = 0;
        for (int i = 0; i < n; i++) {
            if (maxSim != null && Float.isNaN(maxSim[i])) {
                continue;
            }
            ids[j] = result.version().docId(top.chunk(row, i), top.row(row, i));
            if (maxSim == null) {
                scores[j] = top.score(row, i);
            } else {
                scores[j] = maxSim[i];
                first[j] = top.score(row, i);
            }
            j++;
        }
        out.collect(new ShardHits(input.key(), shard, shards, ids, scores, result.version().documents(),
                result.version().lastOffsets(), shard == 0 ? input : null, first));
    }

    @Override
    public void close() {
        if (documents != null) {
            String label = job == null ? "" : job;
            InflowMetrics.INDEX_DOCUMENTS.remove(label, Integer.toString(shard), indexName);
            InflowMetrics.INDEX_BYTES.remove(label, Integer.toString(shard), indexName);
            documents = null;
        }
        if (backend != null) {
            backend.close();
            backend = null;
        }
    }
}
