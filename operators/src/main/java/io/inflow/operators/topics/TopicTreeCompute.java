package io.inflow.operators.topics;

import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.batch.VectorBatch;
import io.inflow.operators.batch.BatchCompute;
import io.inflow.operators.batch.DeferredOutput;
import io.inflow.operators.batch.Emitter;
import io.inflow.operators.batch.StateStores;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.operators.runtime.HelperThreads;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The streaming topic tree: per key (tenant and modality) a window of the last events in keyed state, a density tree
 * rebuilt every {@code rebuildEvery} events or {@code rebuildInterval}, and every arriving event assigned at once to
 * the current tree. Run it on a stream keyed by {@link TopicEvent#key()}.
 * <ul>
 *   <li>Assigning (the batch's compute, off the task thread): each row against its key's current {@link TopicModel}
 *       (approximate prediction through core distances); no tree yet: an empty path.</li>
 *   <li>Emitting (task thread, under the row's key): the {@link TopicAssignment}; the event joins the window; when a
 *       rebuild is due, a copy of the window goes to the rebuild thread.</li>
 *   <li>Rebuilding ({@link TopicBuilder}, on its own thread, so neither the task thread nor assigning waits): the new
 *       model replaces the old one for assigning at once; then, on the task thread through {@link DeferredOutput},
 *       the window's events get their new paths (so topic ids stay stable across rebuilds and restores) and the
 *       {@link TopicTreeSnapshot} goes to the {@link #SNAPSHOTS} side output.</li>
 * </ul>
 * The window survives checkpoints, restores and rescaling (keyed state); the models are rebuilt from it when the
 * operator opens, before the first batch, with the same topic ids (matched through the restored paths).
 *
 * <pre>{@code
 * SingleOutputStreamOperator<TopicAssignment> assigned = events.keyBy(TopicEvent::key)
 *         .transform("topic tree", TypeInformation.of(TopicAssignment.class),
 *                 new BatchOperatorFactory<>(new TopicTreeCompute(settings, 64, 2),
 *                         new BatchSettings(Duration.ofMillis(50), 2, "topics", "text")));
 * DataStream<TopicTreeSnapshot> trees = assigned.getSideOutput(TopicTreeCompute.SNAPSHOTS);
 * }</pre>
 */
public final class TopicTreeCompute implements BatchCompute<TopicEvent, VectorBatch, TopicAssignment[], TopicAssignment> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TopicTreeCompute.class);
    /** Stage of dead letters written here. */
    public static final String STAGE = "topics";
    /** Tree snapshots, one per rebuild. */
    public static final OutputTag<TopicTreeSnapshot> SNAPSHOTS = new OutputTag<>("topic-trees",
            TypeInformation.of(TopicTreeSnapshot.class));

    private static final String WINDOW_STATE = "topic-window";

    private final TopicSettings settings;
    private final int maxRows;
    private final int threads;
    private transient ValueState<TopicWindow> windows;
    private transient DeferredOutput<TopicAssignment> later;
    private transient FastCpuBackend backend;
    private transient ExecutorService rebuilds;
    private transient Map<String, TopicModel> models;
    private transient Set<String> building;
    private transient Map<String, TopicWindow> restored;
    private transient String job;

    /**
     * @param settings the window, rebuild triggers and tree parameters
     * @param maxRows events per assigning batch
     * @param threads kernel threads of the clustering backend (fast CPU)
     */
    public TopicTreeCompute(TopicSettings settings, int maxRows, int threads) {
        if (maxRows < 1 || threads < 1) {
            throw new IllegalArgumentException("maxRows and threads must be positive");
        }
        this.settings = settings;
        this.maxRows = maxRows;
        this.threads = threads;
    }

    public TopicSettings settings() {
        return settings;
    }

    @Override
    public void initializeState(StateStores stores) throws Exception {
        windows = stores.requireKeyed().getState(new ValueStateDescriptor<>(WINDOW_STATE,
                TypeInformation.of(TopicWindow.class)));
        restored = new HashMap<>();
        if (stores.restored()) {
            stores.forEachKey(WINDOW_STATE, key -> {
                TopicWindow w = windows.value();
                if (w != null && w.version > 0) {
                    restored.put((String) key, w.copy());
                }
            });
        }
    }

    @Override
    public void taskInfo(String job, int subtask, int parallelism) {
        this.job = job;
    }

    @Override
    public void deferredOutput(DeferredOutput<TopicAssignment> later) {
        this.later = later;
    }

    @Override
    public VectorBatch newBatch(BufferAllocator allocator, int bucket) {
        return new VectorBatch(allocator, settings.dim(), maxRows);
    }

    @Override
    public void append(VectorBatch batch, TopicEvent input) {
        batch.append(input.embedding());
    }

    @Override
    public RawRecord raw(TopicEvent input) {
        return input.raw();
    }

    @Override
    public DeadLetterRecord rejected(TopicEvent input, long nowMs) {
        float[] e = input.embedding();
        if (e == null || e.length != settings.dim()) {
            return DeadLetters.of(input.raw(), ErrorKind.INVALID_FIELD, "embedding has " + (e == null ? 0 : e.length)
                    + " values, the topic tree " + settings.dim(), STAGE, nowMs);
        }
        for (float v : e) {
            if (!Float.isFinite(v)) {
                return DeadLetters.of(input.raw(), ErrorKind.NON_FINITE_OUTPUT, "embedding has a non-finite value",
                        STAGE, nowMs);
            }
        }
        return null;
    }

    @Override
    public void open() {
        backend = new FastCpuBackend(null, threads);
        rebuilds = HelperThreads.pool("topic-rebuild", 1);
        models = new ConcurrentHashMap<>();
        building = ConcurrentHashMap.newKeySet();
        // restored keys get their trees back before the first batch: the same window gives the same tree and, matched
        // through the restored paths, the same topic ids (no new version, no snapshot)
        long t0 = System.nanoTime();
        for (Map.Entry<String, TopicWindow> e : restored.entrySet()) {
            models.put(e.getKey(), TopicBuilder.rebuildRestored(e.getKey(), e.getValue(), settings,
                    backend.clustering()));
        }
        if (!restored.isEmpty()) {
            LOG.info("rebuilt the topic trees of {} restored keys in {} ms", restored.size(),
                    (System.nanoTime() - t0) / 1_000_000);
        }
        restored = null;
    }

    @Override
    public ModelRef model() {
        return new ModelRef("hdbscan-topic-tree", settings.params().minSamples() + "/"
                + settings.params().minClusterSize() + "/" + settings.params().metric().name().toLowerCase()
                + (settings.pcaComponents() > 0 ? "/pca" + settings.pcaComponents() : ""));
    }

    @Override
    public String backend() {
        return "cpu-fast";
    }

    /** Compute thread: every row against its key's current tree. */
    @Override
    public TopicAssignment[] compute(VectorBatch batch, List<TopicEvent> inputs) {
        TopicAssignment[] out = new TopicAssignment[inputs.size()];
        for (int r = 0; r < out.length; r++) {
            TopicEvent e = inputs.get(r);
            TopicModel model = models.get(e.key());
            out[r] = model == null ? TopicAssignment.of(e, -1, List.of(), 0, 0) : model.assign(e);
        }
        return out;
    }

    @Override
    public int resultRows(TopicAssignment[] result) {
        return result.length;
    }

    /** Task thread, under the row's key: emit the assignment, add the event to the window, start a due rebuild. */
    @Override
    public void emit(TopicEvent input, int row, TopicAssignment[] result, Emitter<TopicAssignment> out)
            throws Exception {
        TopicAssignment a = result[row];
        out.collect(a);
        TopicWindow w = windows.value();
        long now = System.currentTimeMillis();
        if (w == null) {
            w = TopicWindow.empty(settings.windowSize(), settings.dim());
            w.lastBuildMs = now; // the interval counts from the key's first event
        }
        long[] path = a.path().stream().mapToLong(Long::longValue).toArray();
        w.add(input.id(), input.text() == null ? "" : input.text(), input.embedding(), path);
        boolean due = w.eventsSinceBuild >= settings.rebuildEvery()
                || (w.eventsSinceBuild > 0 && now - w.lastBuildMs >= settings.rebuildInterval().toMillis());
        if (due && w.size() >= settings.minEventsForTree() && building.add(input.key())) {
            w.eventsSinceBuild = 0;
            w.lastBuildMs = now;
            startRebuild(input.key(), w.copy());
        }
        windows.update(w);
    }

    private void startRebuild(String key, TopicWindow copy) {
        rebuilds.execute(() -> {
            try {
                TopicBuilder.Result r = TopicBuilder.build(key, copy, settings, backend.clustering());
                models.put(key, r.model());
                later.emit(key, out -> apply(key, copy, r, out));
            } catch (Throwable t) {
                building.remove(key);
                LOG.error("rebuilding the topic tree of {} ({} events) failed; the previous tree stays", key,
                        copy.size(), t);
            }
        });
    }

    /** Task thread, under the key: the window's events take their new paths, and the snapshot goes out. */
    private void apply(String key, TopicWindow built, TopicBuilder.Result r, Emitter<TopicAssignment> out)
            throws Exception {
        building.remove(key);
        TopicWindow w = windows.value();
        if (w == null) {
            return;
        }
        Map<String, long[]> newPaths = new HashMap<>();
        for (int i = 0; i < built.size(); i++) {
            newPaths.put(built.ids[i], r.paths()[i]);
        }
        for (int i = 0; i < w.size(); i++) {
            long[] p = newPaths.get(w.id(i));
            if (p != null) {
                w.setPath(i, p);
            }
        }
        w.version = r.model().version();
        w.nextTopic = Math.max(w.nextTopic, r.nextTopic());
        windows.update(w);
        out.sideOutput(SNAPSHOTS, r.snapshot());
        recordMetrics(key, r.snapshot());
        LOG.info("topic tree of {} rebuilt: version {}, {} events, {} nodes, {} flat topics, {}% noise, churn {}%,"
                + " {} ms", key, r.snapshot().version(), r.snapshot().windowSize(), r.snapshot().nodes().size(),
                r.snapshot().nodes().stream().filter(TopicNode::selected).count(),
                Math.round(100 * r.snapshot().noiseShare()), Math.round(100 * r.snapshot().churn()),
                r.snapshot().buildMillis());
    }

    /** The rebuild's time and the latest tree's shape, labelled with the key's modality (not its tenant). */
    private void recordMetrics(String key, TopicTreeSnapshot s) {
        String modality = key.substring(key.lastIndexOf('|') + 1);
        String jobLabel = job == null ? "" : job;
        InflowMetrics.TREE_REBUILD.labelValues(jobLabel, STAGE, modality).observe(s.buildMillis() / 1e3);
        InflowMetrics.TREE_NODES.labelValues(jobLabel, STAGE, modality).set(s.nodes().size());
        InflowMetrics.TREE_TOPICS.labelValues(jobLabel, STAGE, modality)
                .set(s.nodes().stream().filter(TopicNode::selected).count());
        InflowMetrics.TREE_NOISE.labelValues(jobLabel, STAGE, modality).set(s.noiseShare());
        InflowMetrics.TREE_CHURN.labelValues(jobLabel, STAGE, modality).set(s.churn());
    }

    @Override
    public void close() throws Exception {
        if (rebuilds != null) {
            rebuilds.shutdownNow();
            rebuilds.awaitTermination(30, TimeUnit.SECONDS);
        }
        if (backend != null) {
            backend.close();
        }
    }
}
