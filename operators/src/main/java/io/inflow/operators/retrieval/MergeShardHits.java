package io.inflow.operators.retrieval;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Merges the shards' partial top-k lists of a query into one, keyed by {@link ShardHits#queryKey()}: the partial
 * answers wait in keyed state (checkpointed) until every shard answered, then the best k over all of them are
 * emitted in a deterministic order (score descending, then document id ascending: the same tie rule the kernels use
 * inside a shard), with the shards' states.
 *
 * <p>With MaxSim rerank every shard sends its best {@code candidates} by single-vector score, each with its MaxSim
 * score: the merge keeps the best {@code candidates} over all shards by single-vector score (the same tie rule), then
 * orders those by MaxSim score (ties by document id) and keeps k. The global candidates are always among the shards'
 * own, so the answer is the two-stage answer over the whole index whatever the parallelism.
 *
 * <pre>{@code
 * DataStream<RetrievalAnswer> answers = hits.keyBy(ShardHits::queryKey).process(new MergeShardHits(10));
 * hits.keyBy(ShardHits::queryKey).process(new MergeShardHits(10, 100));   // MaxSim rerank of the best 100
 * }</pre>
 */
public final class MergeShardHits extends KeyedProcessFunction<String, ShardHits, RetrievalAnswer> {

    private static final long serialVersionUID = 1L;

    private record Hit(String docId, float score, float first) {
    }

    private static final Comparator<Hit> ORDER = Comparator.comparingDouble((Hit h) -> -h.score)
            .thenComparing(Hit::docId);
    private static final Comparator<Hit> FIRST_STAGE = Comparator.comparingDouble((Hit h) -> -h.first)
            .thenComparing(Hit::docId);

    private final int k;
    private final int candidates;
    private transient ListState<ShardHits> partial;

    public MergeShardHits(int k) {
        this(k, 0);
    }

    /** A merge of a MaxSim rerank over the best {@code candidates} (0: no rerank). */
    public MergeShardHits(int k, int candidates) {
        this.k = k;
        this.candidates = candidates;
    }

    @Override
    public void open(OpenContext context) {
        partial = getRuntimeContext().getListState(new ListStateDescriptor<>("retrieval-partial",
                TypeInformation.of(ShardHits.class)));
    }

    @Override
    public void processElement(ShardHits hits, Context ctx, Collector<RetrievalAnswer> out) throws Exception {
        List<ShardHits> all = new ArrayList<>();
        for (ShardHits h : partial.get()) {
            all.add(h);
        }
        all.add(hits);
        if (all.size() < hits.shards()) {
            partial.add(hits);
            return;
        }
        partial.clear();
        out.collect(merge(all, k, candidates));
    }

    /** The merged answer of every shard's hits for one query. */
    static RetrievalAnswer merge(List<ShardHits> all, int k) {
        return merge(all, k, 0);
    }

    /** The merged answer; with {@code candidates > 0} the two-stage rule of the class comment. */
    static RetrievalAnswer merge(List<ShardHits> all, int k, int candidates) {
        List<Hit> hits = new ArrayList<>();
        QueryRow query = null;
        long documents = 0;
        List<RetrievalAnswer.Shard> shards = new ArrayList<>();
        for (ShardHits h : all) {
            for (int i = 0; i < h.docIds().length; i++) {
                hits.add(new Hit(h.docIds()[i], h.scores()[i], h.firstScores() == null ? h.scores()[i]
                        : h.firstScores()[i]));
            }
            if (h.query() != null) {
                query = h.query();
            }
            documents += h.documents();
            shards.add(new RetrievalAnswer.Shard(h.shard(), h.documents(), h.lastOffsets()));
        }
        if (query == null) {
            throw new IllegalStateException("no shard carried query " + all.get(0).queryKey());
        }
        if (candidates > 0) {
            hits.sort(FIRST_STAGE);
            hits = new ArrayList<>(hits.subList(0, Math.min(candidates, hits.size())));
        }
        hits.sort(ORDER);
        shards.sort(Comparator.comparingInt(RetrievalAnswer.Shard::shard));
        int n = Math.min(k, hits.size());
        String[] ids = new String[n];
        float[] scores = new float[n];
        for (int i = 0; i < n; i++) {
            ids[i] = hits.get(i).docId();
            scores[i] = hits.get(i).score();
        }
        return new RetrievalAnswer(query, ids, scores, documents, List.copyOf(shards));
    }
}
