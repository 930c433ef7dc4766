package io.inflow.operators.embed;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.encoder.TextEncoder;
import io.inflow.gpu.head.Head;
import io.inflow.gpu.resources.ProcessResources;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.operators.score.ScorerSpec;
import io.inflow.operators.score.TextScorer;
import io.inflow.schemas.ModelRef;

/**
 * Embeds a batch with the transformer encoder: the batch's {@code int32 [rows, seqLen]} token ids and its token
 * counts are handed to the encoder as tensor views of the Arrow buffers (no copy), and one pooled (optionally
 * projected and normalised) embedding per row comes back.
 *
 * <p>{@code new EncoderCompute(EncoderSpec.defaults(TextModel.ALL_MINILM_L6_V2, 2, 256))}
 */
public final class EncoderCompute implements TextBatchCompute {

    private static final long serialVersionUID = 1L;

    private final EncoderSpec spec;
    private final TokenHeadSpec tokenHead;
    private final ScorerSpec scorer;
    private transient TextScorer textScorer;
    private transient ProcessResources.Lease<SharedModel<TextEncoder>> lease;
    private transient SharedModel<TextEncoder> shared;
    private transient TextEncoder encoder;
    private transient Head head;

    public EncoderCompute(EncoderSpec spec) {
        this(spec, null);
    }

    /**
     * An encoder whose batches also carry every row's token vectors (through {@code tokenHead}, unit length), for
     * MaxSim rerank; null: pooled embeddings only.
     */
    public EncoderCompute(EncoderSpec spec, TokenHeadSpec tokenHead) {
        this(spec, tokenHead, null);
    }

    /**
     * As {@link #EncoderCompute(EncoderSpec, TokenHeadSpec)}, and each batch is also scored by {@code scorer}
     * ({@link TextScorer}; null: no scorer): enriched events then carry {@code scores} and {@code scorer}.
     */
    public EncoderCompute(EncoderSpec spec, TokenHeadSpec tokenHead, ScorerSpec scorer) {
        this.spec = spec;
        this.tokenHead = tokenHead;
        this.scorer = scorer;
    }

    /** The scorer run after embedding, or null. */
    public ScorerSpec scorer() {
        return scorer;
    }

    /** The head of the per-token vectors, or null when batches carry none. */
    public TokenHeadSpec tokenHead() {
        return tokenHead;
    }

    /** What encoder this runs. */
    public EncoderSpec spec() {
        return spec;
    }

    @Override
    public void open() throws Exception {
        lease = SharedEncoders.acquire(spec, () -> TextEncoder.create(spec.toConfig()));
        shared = lease.get();
        encoder = shared.model();
        if (tokenHead != null && !tokenHead.isNone()) {
            head = encoder.loadHead(tokenHead.toHeadConfig(spec.model().modelName()));
        }
        if (scorer != null) {
            textScorer = TextScorer.open(scorer, spec, shared);
        }
    }

    @Override
    public ModelRef model() {
        return new ModelRef(spec.model().modelName(), spec.version());
    }

    /** The encoder backend's name without its details: {@code cpu-fast(2 threads)} is {@code cpu-fast}. */
    @Override
    public String backend() {
        return encoder.backendName().replaceFirst("\\(.*\\)$", "");
    }

    @Override
    public boolean backlogged() {
        return shared.backlogged();
    }

    @Override
    public BatchOutput compute(TokenBatch batch) throws Exception {
        int rows = batch.rowCount();
        Tensor ids = Tensor.wrap(batch.inputIdsBuffer(), DType.INT32, rows, batch.seqLen());
        Tensor lengths = Tensor.wrap(batch.tokenCountBuffer(), DType.INT32, rows);
        BatchOutput out;
        if (tokenHead != null) {
            TextEncoder.TokenEncoding e = shared.call(enc -> enc.encodeWithTokens(ids, lengths, head));
            out = BatchOutput.withTokens(rows, encoder.dimension(), e.pooled(), e.tokens(), e.offsets(),
                    e.tokenDim());
        } else {
            out = BatchOutput.embeddings(rows, encoder.dimension(), shared.call(enc -> enc.encode(ids, lengths)));
        }
        return textScorer == null ? out : out.withScores(textScorer.score(batch, out.embeddings()));
    }

    @Override
    public void close() throws Exception {
        if (textScorer != null) {
            textScorer.close();
            textScorer = null;
        }
        if (head != null) {
            head.close();
            head = null;
        }
        if (encoder != null) {
            encoder = null;
            shared = null;
            lease.close();
        }
    }
}
