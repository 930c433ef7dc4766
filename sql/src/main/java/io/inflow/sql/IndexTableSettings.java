package io.inflow.sql;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.head.HeadType;
import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.operators.embed.EncoderSpec;
import io.inflow.operators.metrics.MetricsOptions;

import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeFamily;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * An {@code inflow-index} table's settings, checked when a query using the table is planned (a bad option or column
 * fails the statement with a message naming it), then carried to the TaskManagers.
 *
 * <p>{@code IndexTableSettings s = IndexTableSettings.from(tableOptions, allOptions, schema, session, "sql:docs");}
 *
 * @param index what the TaskManager's shared index is built from (equal specs share one index per process)
 * @param docIdColumn position of {@code doc_id} in the table's row
 * @param embeddingColumn position of the {@code ARRAY<FLOAT>} column
 * @param textColumn position of {@code text}, or -1
 * @param columns the table's column count
 * @param waitForCorpus whether the first search waits for the corpus's end offsets at open
 * @param waitTimeout how long it waits
 * @param job the {@code job} label of the search metrics ({@code pipeline.name}, else {@code sql:<table>})
 * @param metricsEnabled whether the process serves Inflow's metrics ({@code inflow.metrics.enabled})
 * @param metricsPort port or range of the metrics endpoint ({@code inflow.metrics.port})
 * @param metricsHost bind address of the metrics endpoint ({@code inflow.metrics.bind-host})
 */
public record IndexTableSettings(CorpusIndexSpec index, int docIdColumn, int embeddingColumn, int textColumn,
        int columns, boolean waitForCorpus, Duration waitTimeout, String job, boolean metricsEnabled,
        String metricsPort, String metricsHost) implements Serializable {

    /** Upper bound of {@code chunk-rows} (as {@code inflow.retrieval.chunk-rows}). */
    public static final int MAX_CHUNK_ROWS = 1 << 20;
    /** Consumer settings the index sets itself (bytes in, no group offsets). */
    static final Set<String> RESERVED = Set.of("key.deserializer", "value.deserializer", "enable.auto.commit");

    /**
     * Validates the table's options and schema.
     *
     * @param options the table's options, already checked by Flink's helper (required and unknown keys)
     * @param all every option of the table ({@code properties.*} are taken from here)
     * @param session the table configuration: {@code inflow.compute.*}, {@code inflow.cuda.*},
     *     {@code inflow.metrics.*}
     * @param job the metrics' {@code job} label
     * @throws ValidationException naming the option or column at fault
     */
    public static IndexTableSettings from(ReadableConfig options, Map<String, String> all, ResolvedSchema schema,
            ReadableConfig session, String job) {
        TextModel model;
        try {
            model = TextModel.byName(options.get(InflowIndexOptions.MODEL));
        } catch (IllegalArgumentException e) {
            throw new ValidationException("'model': " + e.getMessage(), e);
        }
        Metric metric = parse("metric", () -> Metric.parse(options.get(InflowIndexOptions.METRIC)));
        Storage storage = parse("storage", () -> Storage.parse(options.get(InflowIndexOptions.STORAGE)));
        int chunkRows = options.get(InflowIndexOptions.CHUNK_ROWS);
        if (chunkRows < 1 || chunkRows > MAX_CHUNK_ROWS) {
            throw new ValidationException("'chunk-rows' must be between 1 and " + MAX_CHUNK_ROWS + " (got "
                    + chunkRows + ")");
        }
        int maxTokens = options.get(InflowIndexOptions.MAX_TOKENS);
        if (maxTokens < 2 || maxTokens > TextTokenizer.MAX_SUPPORTED_TOKENS) {
            throw new ValidationException("'max-tokens' must be between 2 and " + TextTokenizer.MAX_SUPPORTED_TOKENS
                    + " (got " + maxTokens + ")");
        }
        Integer dimension = options.get(InflowIndexOptions.DIMENSION);
        if (dimension != null && dimension != model.dimension()) {
            throw new ValidationException("'dimension' is " + dimension + " but model '" + model.modelName()
                    + "' produces " + model.dimension() + "-dimensional embeddings");
        }
        Duration timeout = options.get(InflowIndexOptions.WAIT_TIMEOUT);
        if (timeout.isNegative() || timeout.isZero()) {
            throw new ValidationException("'wait-for-corpus.timeout' must be positive (got " + timeout + ")");
        }
        String topic = options.get(InflowIndexOptions.TOPIC);
        if (topic.isBlank()) {
            throw new ValidationException("'topic' must name the corpus topic (got an empty value)");
        }
        Map<String, String> kafka = new TreeMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(InflowIndexOptions.PROPERTIES_PREFIX)) {
                String key = k.substring(InflowIndexOptions.PROPERTIES_PREFIX.length());
                if (RESERVED.contains(key)) {
                    throw new ValidationException("'" + k + "' cannot be set: the index sets it itself (it reads"
                            + " keys and values as bytes and commits no offsets)");
                }
                kafka.put(key, v);
            }
        });
        int threads = InflowModelOptions.sessionThreads(session);
        CudaBackendConfig cuda = InflowModelOptions.sessionCuda(session);
        BackendKind backend = options.getOptional(InflowIndexOptions.BACKEND)
                .orElse(session.get(InflowModelOptions.SESSION_BACKEND));
        EncoderSpec spec = new EncoderSpec(model, model.defaultPooling(), true, HeadType.NONE, null, false, null,
                backend, threads, maxTokens, cuda);
        EmbeddingModelSettings embedding = new EmbeddingModelSettings(spec, maxTokens, 32, Duration.ofMillis(1),
                false, "0", "0.0.0.0", "vector-search");

        List<Column> columns = schema.getColumns();
        int docId = -1;
        int vector = -1;
        int text = -1;
        for (int i = 0; i < columns.size(); i++) {
            Column c = columns.get(i);
            LogicalType type = c.getDataType().getLogicalType();
            if (!c.isPhysical()) {
                throw new ValidationException("column '" + c.getName() + "' is not a physical column: an inflow-index"
                        + " table has physical columns only");
            }
            if (type instanceof ArrayType a) {
                if (!a.getElementType().is(LogicalTypeRoot.FLOAT) || vector >= 0) {
                    throw new ValidationException("an inflow-index table has exactly one ARRAY<FLOAT> column (the"
                            + " document embeddings, " + model.dimension() + " values for '" + model.modelName()
                            + "'); got " + describe(columns));
                }
                vector = i;
            } else if (c.getName().equals("doc_id") || c.getName().equals("text")) {
                if (!type.is(LogicalTypeFamily.CHARACTER_STRING)) {
                    throw new ValidationException("column '" + c.getName() + "' must be STRING, got "
                            + type.asSummaryString());
                }
                if (c.getName().equals("doc_id")) {
                    docId = i;
                } else {
                    text = i;
                }
            } else {
                throw new ValidationException("column '" + c.getName() + "' is not one an inflow-index table fills:"
                        + " use doc_id STRING, one ARRAY<FLOAT> column (the embedding) and optionally text STRING");
            }
        }
        if (docId < 0 || vector < 0) {
            throw new ValidationException("an inflow-index table needs a doc_id STRING column and one ARRAY<FLOAT>"
                    + " column (the embedding); got " + describe(columns));
        }
        CorpusIndexSpec index = new CorpusIndexSpec(topic, kafka, embedding, metric, storage, chunkRows, backend,
                threads, text >= 0);
        ModelChecks.metrics(session); // inflow.metrics.port checked here rather than on the TaskManager
        return new IndexTableSettings(index, docId, vector, text, columns.size(),
                options.get(InflowIndexOptions.WAIT_FOR_CORPUS), timeout, job, session.get(MetricsOptions.ENABLED),
                session.get(MetricsOptions.PORT), session.get(MetricsOptions.BIND_HOST));
    }

    private interface Parser<T> {
        T parse();
    }

    private static <T> T parse(String option, Parser<T> parser) {
        try {
            return parser.parse();
        } catch (IllegalArgumentException e) {
            throw new ValidationException("'" + option + "': " + e.getMessage(), e);
        }
    }

    private static String describe(List<Column> columns) {
        return columns.stream().map(c -> c.getName() + " " + c.getDataType().getLogicalType().asSummaryString())
                .collect(Collectors.joining(", ", "(", ")"));
    }
}
