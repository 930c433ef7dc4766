package io.inflow.operators.metrics;

import io.inflow.operators.runtime.ArrowMemory;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every metric Inflow's operators publish, named the Prometheus way, in one process-wide registry served by
 * {@link MetricsEndpoint}. Flink's own metrics (Kafka lag, checkpoints, restarts, back pressure) stay with Flink's
 * Prometheus reporter; the table of both is in the root README's "Metrics" section.
 *
 * <p>Why not Flink's metric groups: Flink's reporter derives a name from the group hierarchy
 * ({@code flink_taskmanager_job_task_operator_<groups>_<name>}), which no scope format changes, and turns key-value
 * groups into name parts ({@code ..._reason_dead_letters_total}). Here the name is exactly what is written below.
 *
 * <p>Labels: {@code job} (Flink job name), {@code operator} ({@code decode}, {@code embed}), {@code modality}
 * ({@code text}, later {@code image}), {@code model}, {@code backend} (the compute backend's name), {@code reason}
 * (dead-letter error kind), {@code version} (model version). One series per label set and process: subtasks of the
 * same operator in one TaskManager add into the same series.
 *
 * <pre>{@code
 * InflowMetrics.RECORDS_IN.labelValues("inflow-text", "decode", "text", "").inc();
 * }</pre>
 */
public final class InflowMetrics {

    /** The registry the endpoint serves: only Inflow's metrics (no JVM metrics: Flink's reporter has those). */
    public static final PrometheusRegistry REGISTRY = new PrometheusRegistry();

    public static final String JOB = "job";
    public static final String OPERATOR = "operator";
    public static final String MODALITY = "modality";
    public static final String MODEL = "model";
    public static final String BACKEND = "backend";
    public static final String REASON = "reason";
    public static final String VERSION = "version";

    /** Batch sizes in records: powers of two up to 1024 (the operator's limit is {@code inflow.batch.max-records}). */
    private static final double[] RECORD_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
    /** Real tokens per batch: 16 to 32768 (the default padded limit per batch is 8192). */
    private static final double[] TOKEN_BUCKETS = {16, 64, 256, 1024, 2048, 4096, 8192, 16384, 32768};
    /** Seconds a batch waits to fill: 1 ms to 1 s (the default {@code inflow.batch.max-wait} is 50 ms). */
    private static final double[] WAIT_BUCKETS = {.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1};
    /** Seconds of compute per batch: 1 ms (tokenize only, GPU) to 30 s (a CPU encoder on long texts). */
    private static final double[] COMPUTE_BUCKETS = {.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10,
            30};

    /** Records an operator received (decode: every Kafka record; embed: every text packed into a batch). */
    public static final Counter RECORDS_IN = Counter.builder().name("inflow_records_in_total")
            .help("Records an operator received").labelNames(JOB, OPERATOR, MODALITY, MODEL).register(REGISTRY);

    /** Records an operator emitted downstream (decode: valid events; embed: enriched events). */
    public static final Counter RECORDS_OUT = Counter.builder().name("inflow_records_out_total")
            .help("Records an operator emitted downstream (dead letters not included)")
            .labelNames(JOB, OPERATOR, MODALITY, MODEL).register(REGISTRY);

    /** Records sent to the dead-letter topic, by reason (the error kind's wire name). */
    public static final Counter DEAD_LETTERS = Counter.builder().name("inflow_dead_letters_total")
            .help("Records sent to the dead-letter topic, by reason")
            .labelNames(JOB, OPERATOR, MODALITY, REASON).register(REGISTRY);

    /** Texts a scorer scored, by its top label ({@code inflow.text.scorer}; counted when the batch is computed). */
    public static final Counter SCORED = Counter.builder().name("inflow_scored_records_total")
            .help("Texts scored by a scorer, by top label").labelNames(JOB, "scorer", "precision", "label")
            .register(REGISTRY);

    /** Texts cut to the tokenizer's limit ({@code inflow.text.max-tokens}). */
    public static final Counter TRUNCATED = Counter.builder().name("inflow_truncated_records_total")
            .help("Texts truncated to the token limit").labelNames(JOB, OPERATOR, MODALITY, MODEL)
            .register(REGISTRY);

    /** Padded token slots computed (rows x bucket length); against {@link #BATCH_TOKENS}' sum it is the padding. */
    public static final Counter PADDED_TOKENS = Counter.builder().name("inflow_batch_padded_tokens_total")
            .help("Token slots computed including padding (rows x bucket length)")
            .labelNames(JOB, OPERATOR, MODALITY, MODEL).register(REGISTRY);

    /** Rows per batch handed to compute; its {@code _count} is the number of batches. */
    public static final Histogram BATCH_SIZE = Histogram.builder().name("inflow_batch_size_records")
            .help("Records per micro-batch").classicOnly().classicUpperBounds(RECORD_BUCKETS)
            .labelNames(JOB, OPERATOR, MODALITY, MODEL).register(REGISTRY);

    /** Real (unpadded) tokens per batch. */
    public static final Histogram BATCH_TOKENS = Histogram.builder().name("inflow_batch_tokens")
            .help("Real (unpadded) tokens per micro-batch").classicOnly().classicUpperBounds(TOKEN_BUCKETS)
            .labelNames(JOB, OPERATOR, MODALITY, MODEL).register(REGISTRY);

    /** First row's arrival to the batch's hand-over to compute. */
    public static final Histogram BATCH_WAIT = Histogram.builder().name("inflow_batch_wait_seconds")
            .help("Time from a batch's first record until it is ready for compute (full, or max-wait reached)")
            .classicOnly().classicUpperBounds(WAIT_BUCKETS).labelNames(JOB, OPERATOR, MODALITY, MODEL)
            .register(REGISTRY);

    /**
     * Time a ready batch waited for a free compute slot ({@code inflow.batch.max-in-flight}); long when compute is
     * saturated (the batch keeps filling meanwhile).
     */
    public static final Histogram BATCH_QUEUE = Histogram.builder().name("inflow_batch_queue_seconds")
            .help("Time a batch ready for compute waited for a free compute slot").classicOnly()
            .classicUpperBounds(WAIT_BUCKETS).labelNames(JOB, OPERATOR, MODALITY, MODEL).register(REGISTRY);

    /** Compute time per batch on the operator's compute thread. */
    public static final Histogram COMPUTE = Histogram.builder().name("inflow_compute_seconds")
            .help("Compute time per micro-batch").classicOnly().classicUpperBounds(COMPUTE_BUCKETS)
            .labelNames(JOB, OPERATOR, MODALITY, MODEL, BACKEND).register(REGISTRY);

    /** Batches handed to compute and not yet emitted (the compute queue's depth), summed over subtasks. */
    public static final Gauge BATCHES_IN_FLIGHT = Gauge.builder().name("inflow_batches_in_flight")
            .help("Batches handed to compute and not yet emitted (queue depth)")
            .labelNames(JOB, OPERATOR, MODALITY, MODEL, BACKEND).register(REGISTRY);

    /** Live documents in each retrieval index shard (label {@code shard}: the subtask index). */
    public static final Gauge INDEX_DOCUMENTS = Gauge.builder().name("inflow_index_documents")
            .help("Live documents in a retrieval index shard").labelNames(JOB, "shard", "index").register(REGISTRY);

    /** Heap bytes of each retrieval index shard's vectors and metadata. */
    public static final Gauge INDEX_BYTES = Gauge.builder().name("inflow_index_bytes")
            .help("Heap bytes of a retrieval index shard (vectors, norms, tie keys, ids)")
            .labelNames(JOB, "shard", "index")
            .register(REGISTRY);

    /** Time of each topic-tree rebuild (density tree, stable ids, snapshot), off the task thread. */
    public static final Histogram TREE_REBUILD = Histogram.builder().name("inflow_tree_rebuild_seconds")
            .help("Time of a topic-tree rebuild").classicOnly()
            .classicUpperBounds(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
            .labelNames(JOB, OPERATOR, MODALITY).register(REGISTRY);

    /** Nodes of the latest topic tree built (of any tenant of the modality). */
    public static final Gauge TREE_NODES = Gauge.builder().name("inflow_tree_nodes")
            .help("Nodes of the latest topic tree (any tenant)").labelNames(JOB, OPERATOR, MODALITY)
            .register(REGISTRY);

    /** Flat topics of the latest topic tree built. */
    public static final Gauge TREE_TOPICS = Gauge.builder().name("inflow_tree_flat_topics")
            .help("Flat topics of the latest topic tree (any tenant)").labelNames(JOB, OPERATOR, MODALITY)
            .register(REGISTRY);

    /** Share of the window labelled noise in the latest topic tree built. */
    public static final Gauge TREE_NOISE = Gauge.builder().name("inflow_tree_noise_share")
            .help("Share of the window labelled noise in the latest topic tree (any tenant)")
            .labelNames(JOB, OPERATOR, MODALITY).register(REGISTRY);

    /** Topic churn of the latest rebuild: (born + died) / (topics before + after). */
    public static final Gauge TREE_CHURN = Gauge.builder().name("inflow_tree_churn")
            .help("Topic churn of the latest rebuild (any tenant): (born + died) / (topics before + after)")
            .labelNames(JOB, OPERATOR, MODALITY).register(REGISTRY);

    /** 1 while an operator runs a model; the labels say which model, version and backend. */
    public static final Gauge MODEL_INFO = Gauge.builder().name("inflow_model_info")
            .help("The model an operator runs (value 1)").labelNames(JOB, OPERATOR, MODEL, VERSION, BACKEND)
            .register(REGISTRY);

    /**
     * Bytes of Arrow batches this process holds (open, computing, waiting to emit), read when scraped. Bounded by
     * {@code inflow.memory.arrow-max-bytes}; the JVM's direct-memory gauges do not see it (Arrow allocates off-heap
     * through Unsafe). No labels: the root allocator is the process's, shared by every operator.
     */
    public static final GaugeWithCallback ARROW_BYTES = GaugeWithCallback.builder()
            .name("inflow_arrow_allocated_bytes")
            .help("Bytes of Arrow batches held by the process's operators (limit: inflow.memory.arrow-max-bytes)")
            .callback(cb -> cb.call(ArrowMemory.allocatedBytes())).register(REGISTRY);

    /** Operator instances per {@link #MODEL_INFO} label set in this process. */
    private static final Map<List<String>, Integer> MODEL_USERS = new HashMap<>();

    private InflowMetrics() {
    }

    /**
     * Sets {@link #MODEL_INFO} to 1 for these labels ({@code job, operator, model, version, backend}); pair with
     * {@link #modelStopped}. Several subtasks in one process share the series.
     */
    public static synchronized void modelStarted(String... labels) {
        MODEL_USERS.merge(List.of(labels), 1, Integer::sum);
        MODEL_INFO.labelValues(labels).set(1);
    }

    /** Removes the {@link #MODEL_INFO} series when the last operator instance using it stops. */
    public static synchronized void modelStopped(String... labels) {
        List<String> key = List.of(labels);
        Integer users = MODEL_USERS.get(key);
        if (users == null) {
            return;
        }
        if (users > 1) {
            MODEL_USERS.put(key, users - 1);
        } else {
            MODEL_USERS.remove(key);
            MODEL_INFO.remove(labels);
        }
    }
}
