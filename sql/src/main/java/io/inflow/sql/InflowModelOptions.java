package io.inflow.sql;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.operators.embed.CudaOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;

import java.time.Duration;

/**
 * The {@code WITH} options of a {@code CREATE MODEL ... WITH ('provider' = 'inflow', ...)} statement. Defaults are
 * the DataStream pipeline's ({@code inflow.batch.max-records}, {@code inflow.batch.max-wait},
 * {@code inflow.text.max-tokens}); {@code backend} defaults to the session's {@code inflow.compute.backend}.
 *
 * <pre>{@code
 * CREATE MODEL embedder INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>)
 * WITH ('provider' = 'inflow', 'task' = 'text-embedding', 'model' = 'all-minilm-l6-v2', 'max-records' = '32');
 * }</pre>
 */
public final class InflowModelOptions {

    /** The only task so far. */
    public static final String TEXT_EMBEDDING = "text-embedding";

    public static final ConfigOption<String> TASK = ConfigOptions.key("task").stringType().noDefaultValue()
            .withDescription("What the model does: only 'text-embedding' for now (one STRING in, one ARRAY<FLOAT>"
                    + " out).");

    public static final ConfigOption<String> MODEL = ConfigOptions.key("model").stringType().noDefaultValue()
            .withDescription("Bundled text model: all-minilm-l6-v2 or bge-small-en-v15 (weights inside Maven jars,"
                    + " no download).");

    public static final ConfigOption<PoolingMode> POOLING = ConfigOptions.key("pooling")
            .enumType(PoolingMode.class).noDefaultValue()
            .withDescription("MEAN, CLS, LAST_TOKEN or MULTI_LAYER_MEAN; default: the model's own (MEAN for MiniLM,"
                    + " CLS for bge).");

    public static final ConfigOption<Boolean> NORMALIZE = ConfigOptions.key("normalize").booleanType()
            .defaultValue(true).withDescription("L2-normalise embeddings (cosine similarity = dot product).");

    public static final ConfigOption<BackendKind> BACKEND = ConfigOptions.key("backend")
            .enumType(BackendKind.class).noDefaultValue()
            .withDescription("CPU, CUDA or AUTO; default: the session's inflow.compute.backend, else CPU. CUDA"
                    + " settings come from the session's inflow.cuda.* keys.");

    public static final ConfigOption<Integer> MAX_RECORDS = ConfigOptions.key("max-records").intType()
            .defaultValue(64).withDescription("Most rows in one micro-batch (also bounded by"
                    + " table.exec.async-ml-predict.max-concurrent-operations: Flink keeps no more rows in flight).");

    public static final ConfigOption<Duration> MAX_WAIT = ConfigOptions.key("max-wait").durationType()
            .defaultValue(Duration.ofMillis(50))
            .withDescription("Longest a row waits for its micro-batch to fill before the batch is computed anyway.");

    public static final ConfigOption<Integer> MAX_TOKENS = ConfigOptions.key("max-tokens").intType()
            .defaultValue(256).withDescription("Token limit per text, special tokens included (2..512); longer"
                    + " texts are truncated, as in the DataStream pipeline.");

    public static final ConfigOption<Integer> DIMENSION = ConfigOptions.key("dimension").intType().noDefaultValue()
            .withDescription("Optional check: the embedding width the query expects; planning fails when the"
                    + " model's differs.");

    /** Session keys shared with the DataStream pipeline (same names, read from the table configuration). */
    static final ConfigOption<BackendKind> SESSION_BACKEND = ConfigOptions.key("inflow.compute.backend")
            .enumType(BackendKind.class).defaultValue(BackendKind.CPU)
            .withDescription("The DataStream pipeline's compute backend key, the default of 'backend'.");

    static final ConfigOption<Integer> SESSION_THREADS = ConfigOptions.key("inflow.compute.threads").intType()
            .defaultValue(Runtime.getRuntime().availableProcessors())
            .withDescription("CPU kernel threads of the encoder, shared by all slots of a TaskManager.");

    private InflowModelOptions() {
    }

    /** The session's {@code inflow.compute.threads}, checked: the encoder's CPU threads. */
    static int sessionThreads(ReadableConfig session) {
        int threads = session.get(SESSION_THREADS);
        if (threads < 1) {
            throw new ValidationException("'" + SESSION_THREADS.key() + "' must be at least 1 (got " + threads + ")");
        }
        return threads;
    }

    /** The session's {@code inflow.cuda.*} settings, checked. */
    static CudaBackendConfig sessionCuda(ReadableConfig session) {
        try {
            return CudaOptions.fromConfiguration(session);
        } catch (IllegalArgumentException e) {
            throw new ValidationException("inflow.cuda.*: " + e.getMessage(), e);
        }
    }
}
