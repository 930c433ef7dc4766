package io.inflow.operators.embed;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.encoder.TextEncoder;
import io.inflow.gpu.head.Head;
import io.inflow.gpu.resources.ProcessResources;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
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
        this.spec = spec;
        this.tokenHead = tokenHead;
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
        if (tokenHead != null) {
            TextEncoder.TokenEncoding e = shared.call(enc -> enc.encodeWithTokens(ids, lengths, head));
            return BatchOutput.withTokens(rows, encoder.dimension(), e.pooled(), e.tokens(), e.offsets(),
                    e.tokenDim());
        }
        float[] embeddings = shared.call(enc -> enc.encode(ids, lengths));
        return BatchOutput.embeddings(rows, encoder.dimension(), embeddings);
    }

    @Override
    public void close() throws Exception {
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
