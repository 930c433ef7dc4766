package io.inflow.operators.embed;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.operators.batch.BatchCompute;
import io.inflow.operators.batch.BatchingConfig;
import io.inflow.operators.batch.Emitter;
import io.inflow.operators.batch.LengthBuckets;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.metrics.BatchMetrics;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.operators.tokenize.AsyncTokenizeFunction;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;

import org.apache.arrow.memory.BufferAllocator;

import java.util.List;

/**
 * Text embedding as a {@link BatchCompute}: tokenized texts go into Arrow {@link TokenBatch}es grouped by token-length
 * bucket (a text goes to the smallest bucket that holds its ids; a batch is full at {@code maxRecords} rows or
 * {@code maxTokens} padded tokens, {@link BatchingConfig#rowsFor}); the {@link TextBatchCompute} (the encoder, or
 * tokens only) computes a batch, and each row becomes its encoded enriched record or its dead letter.
 *
 * <p>Run it through {@link TextEmbedOperatorFactory}.
 */
public final class TextEmbedCompute<OUT> implements BatchCompute<TokenizedText, TokenBatch, RowOutcomes, OUT> {

    private static final long serialVersionUID = 1L;

    private final BatchingConfig config;
    private final TextBatchCompute compute;
    private final EmbeddingEncoding encoding;
    private final RowOutput<OUT> encoder;
    private transient LengthBuckets buckets;
    private transient String job;

    public TextEmbedCompute(BatchingConfig config, TextBatchCompute compute, EmbeddingEncoding encoding,
            RowOutput<OUT> encoder) {
        this.config = config;
        this.compute = compute;
        this.encoding = encoding;
        this.encoder = encoder;
    }

    private LengthBuckets buckets() {
        if (buckets == null) {
            buckets = new LengthBuckets(config.buckets());
        }
        return buckets;
    }

    @Override
    public int bucketCount() {
        return buckets().count();
    }

    @Override
    public int bucketOf(TokenizedText input) {
        return buckets().indexFor(input.ids().length);
    }

    @Override
    public TokenBatch newBatch(BufferAllocator allocator, int bucket) {
        int len = buckets().length(bucket);
        return new TokenBatch(allocator, len, config.rowsFor(len));
    }

    @Override
    public void append(TokenBatch batch, TokenizedText input) {
        batch.append(input.ids(), input.truncated());
    }

    @Override
    public void onRecord(TokenizedText input, BatchMetrics metrics) {
        if (input.truncated()) {
            metrics.truncated.inc();
        }
    }

    @Override
    public long[] units(TokenBatch batch) {
        return new long[] {batch.realTokens(), batch.paddedTokens()};
    }

    @Override
    public String describe(TokenBatch batch) {
        return batch.rowCount() + " rows x " + batch.seqLen() + " tokens";
    }

    @Override
    public RawRecord raw(TokenizedText input) {
        return input.input().raw();
    }

    @Override
    public DeadLetterRecord rejected(TokenizedText input, long nowMs) {
        return input.failure() == null ? null : DeadLetters.of(input.input().raw(), ErrorKind.TOKENIZE_FAILED,
                input.failure(), AsyncTokenizeFunction.STAGE, nowMs);
    }

    @Override
    public void taskInfo(String job, int subtask, int parallelism) {
        this.job = job;
    }

    @Override
    public void open() throws Exception {
        compute.open();
    }

    @Override
    public ModelRef model() {
        return compute.model();
    }

    @Override
    public String backend() {
        return compute.backend();
    }

    @Override
    public boolean backlogged() {
        return compute.backlogged();
    }

    @Override
    public RowOutcomes compute(TokenBatch batch, List<TokenizedText> inputs) throws Exception {
        BatchOutput out = compute.compute(batch);
        if (out.scores() != null) {
            countScores(out.scores());
        }
        ModelRef model = compute.model();
        long now = System.currentTimeMillis();
        return RowOutcomes.build(inputs, out.rows(), this::raw,
                row -> !out.hasEmbeddings() || Finite.row(out.embeddings(), out.dimension(), row),
                row -> EnrichedEvents.text(inputs.get(row).input(), batch, row, out, model, encoding, now),
                row -> out.hasEmbeddings() && encoder.needsEmbedding() ? out.row(row) : null,
                row -> out.hasTokens() && encoder.needsTokens() ? out.tokenRow(row) : null, encoder, now);
    }

    /** {@code inflow_scored_records_total} by top label (compute thread; the counters are thread-safe). */
    private void countScores(io.inflow.operators.score.ScoredRows scores) {
        java.util.Map<String, Integer> byLabel = new java.util.HashMap<>();
        for (int r = 0; r < scores.rows(); r++) {
            byLabel.merge(scores.top(r), 1, Integer::sum);
        }
        byLabel.forEach((label, n) -> io.inflow.operators.metrics.InflowMetrics.SCORED.labelValues(
                job == null ? "unknown" : job, scores.scorer().name(), scores.scorer().precision(), label).inc(n));
    }

    @Override
    public int resultRows(RowOutcomes result) {
        return result.rows();
    }

    @Override
    public void emit(TokenizedText input, int row, RowOutcomes result, Emitter<OUT> out) {
        result.emit(row, out);
    }

    @Override
    public void close() throws Exception {
        compute.close();
    }
}
