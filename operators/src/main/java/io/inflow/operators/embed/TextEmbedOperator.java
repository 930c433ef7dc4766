package io.inflow.operators.embed;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.operators.batch.BatchingConfig;
import io.inflow.operators.batch.LengthBuckets;
import io.inflow.operators.batch.MicroBatchOperator;
import io.inflow.operators.metrics.BatchMetrics;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.operators.tokenize.AsyncTokenizeFunction;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.ModelRef;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/**
 * Packs tokenized texts into Arrow {@link TokenBatch}es grouped by token-length bucket, computes each batch off the
 * task thread and emits one {@link EnrichedEvent} per input. The batching, back pressure, timers and checkpoint
 * flushing are {@link MicroBatchOperator}'s; this class says what a text bucket and a text batch are.
 *
 * <p>Tokenization happened before, off the task thread, in {@link io.inflow.operators.tokenize.AsyncTokenizeFunction}.
 * A text goes to the smallest length bucket that holds its token ids; a batch is full at {@code maxRecords} rows or
 * {@code maxTokens} padded tokens ({@link BatchingConfig#rowsFor}).
 *
 * <p>Create it through {@link TextEmbedOperatorFactory}:
 * <pre>{@code
 * DataStream<EncodedRecord> out = tokenized.transform("embed", TypeInformation.of(EncodedRecord.class),
 *         new TextEmbedOperatorFactory(BatchingConfig.defaults(),
 *                 new TokenizationOnlyCompute(TextModel.ALL_MINILM_L6_V2), EmbeddingEncoding.FLOAT32,
 *                 new OutputEncoder(1 << 20)));
 * }</pre>
 */
public final class TextEmbedOperator extends MicroBatchOperator<TokenizedText, TokenBatch, BatchOutput> {

    private static final long serialVersionUID = 1L;
    /** The {@code operator} label of its metrics. */
    public static final String METRICS_OPERATOR = "embed";
    /** The {@code modality} label of its metrics. */
    public static final String MODALITY = "text";

    private final BatchingConfig config;
    private final TextBatchCompute compute;
    private final EmbeddingEncoding encoding;
    private transient LengthBuckets buckets;

    TextEmbedOperator(StreamOperatorParameters<EncodedRecord> parameters, BatchingConfig config,
            TextBatchCompute compute, EmbeddingEncoding encoding, OutputEncoder encoder) {
        super(parameters, config.maxWait(), config.maxInFlight(), METRICS_OPERATOR, MODALITY, encoder);
        this.config = config;
        this.compute = compute;
        this.encoding = encoding;
    }

    private LengthBuckets buckets() {
        if (buckets == null) {
            buckets = new LengthBuckets(config.buckets());
        }
        return buckets;
    }

    @Override
    protected int bucketCount() {
        return buckets().count();
    }

    @Override
    protected int bucketOf(TokenizedText input) {
        return buckets().indexFor(input.ids().length);
    }

    @Override
    protected TokenBatch newBatch(BufferAllocator allocator, int bucket) {
        int len = buckets().length(bucket);
        return new TokenBatch(allocator, len, config.rowsFor(len));
    }

    @Override
    protected void append(TokenBatch batch, TokenizedText input) {
        batch.append(input.ids(), input.truncated());
    }

    @Override
    protected void onRecord(TokenizedText input, BatchMetrics metrics) {
        if (input.truncated()) {
            metrics.truncated.inc();
        }
    }

    @Override
    protected long[] units(TokenBatch batch) {
        return new long[] {batch.realTokens(), batch.paddedTokens()};
    }

    @Override
    protected String describe(TokenBatch batch) {
        return batch.rowCount() + " rows x " + batch.seqLen() + " tokens";
    }

    @Override
    protected void openCompute() throws Exception {
        compute.open();
    }

    @Override
    protected ModelRef model() {
        return compute.model();
    }

    @Override
    protected String backend() {
        return compute.backend();
    }

    @Override
    protected BatchOutput compute(TokenBatch batch) throws Exception {
        return compute.compute(batch);
    }

    @Override
    protected int resultRows(BatchOutput result) {
        return result.rows();
    }

    @Override
    protected boolean finite(BatchOutput result, int row) {
        return !result.hasEmbeddings() || Finite.rows(result.embeddings(), result.dimension(), row);
    }

    @Override
    protected RawRecord raw(TokenizedText input) {
        return input.input().raw();
    }

    @Override
    protected DeadLetterRecord rejected(TokenizedText input, long nowMs) {
        return input.failure() == null ? null : DeadLetters.of(input.input().raw(), ErrorKind.TOKENIZE_FAILED,
                input.failure(), AsyncTokenizeFunction.STAGE, nowMs);
    }

    @Override
    protected EnrichedEvent enrich(TokenizedText input, TokenBatch batch, int row, BatchOutput result,
            ModelRef model, long nowMs) {
        return EnrichedEvents.text(input.input(), batch, row, result, model, encoding, nowMs);
    }

    @Override
    protected void closeCompute() throws Exception {
        compute.close();
    }
}
