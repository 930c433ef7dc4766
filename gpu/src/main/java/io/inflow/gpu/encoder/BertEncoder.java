package io.inflow.gpu.encoder;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.tensor.Tensor;

/**
 * The BERT encoder forward pass (post-LayerNorm, as in BERT, MiniLM and BGE) on any {@link Backend}:
 * embeddings + LayerNorm, then per layer self-attention with a key-padding mask, output projection,
 * residual LayerNorm, feed-forward (GELU), residual LayerNorm. Activations live in a {@link Workspace}
 * sized to the largest batch seen. Not thread-safe: one forward pass at a time per instance.
 *
 * <pre>{@code
 * try (BertEncoder enc = new BertEncoder(backend, config, weights)) {
 *     Tensor hidden = enc.forward(ids, lengths, null);   // [b, s, d], valid until the next forward
 * }
 * }</pre>
 */
public final class BertEncoder implements AutoCloseable {
    /** Receives every layer's output ({@code layer} from 1 to L) while it is valid, e.g. for multi-layer pooling. */
    @FunctionalInterface
    public interface LayerSink {
        void accept(int layer, Tensor hidden);
    }

    private final Backend backend;
    private final TransformerOps ops;
    private final BertConfig config;
    private final BertWeights weights;
    private final Workspace ws;

    public BertEncoder(Backend backend, BertConfig config, BertWeights weights) {
        this.backend = backend;
        this.ops = backend.transformer();
        this.config = config;
        this.weights = weights;
        this.ws = new Workspace(backend);
    }

    public BertConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /**
     * Runs the encoder on int32 {@code ids [b, s]} with int32 {@code lengths [b]} and returns the last
     * layer's hidden states {@code [b, s, d]} (a workspace view, valid until the next call). Positions at
     * or after a row's length are padding: they never influence valid positions.
     */
    public Tensor forward(Tensor ids, Tensor lengths, LayerSink sink) {
        int b = ids.dim(0);
        int s = ids.dim(1);
        int d = config.hidden();
        int t = b * s;
        Tensor x = ws.get("x", b, s, d);
        ops.embed(ids, null, weights.wordEmbeddings(), weights.positionEmbeddings(), weights.typeEmbeddings(), x);
        ops.layerNorm(x, null, weights.embeddingNormGamma(), weights.embeddingNormBeta(), config.layerNormEps(), x);
        Tensor x2 = x.reshape(t, d);
        Tensor qkv = ws.get("qkv", t, 3 * d);
        Tensor ctx = ws.get("ctx", b, s, d);
        Tensor attn = ws.get("attn", t, d);
        Tensor mid = ws.get("mid", t, d);
        Tensor ffn = ws.get("ffn", t, config.intermediate());
        int layerIndex = 0;
        for (BertLayerWeights w : weights.layers()) {
            ops.selfAttention(x, w.query(), w.queryBias(), w.key(), w.keyBias(), w.value(), w.valueBias(),
                    lengths, config.heads(), qkv, ctx);
            ops.linear(ctx.reshape(t, d), w.attentionOut(), w.attentionOutBias(), attn);
            ops.layerNorm(attn, x2, w.attentionNormGamma(), w.attentionNormBeta(), config.layerNormEps(), mid);
            if (config.activation() == BertConfig.Activation.GELU) {
                ops.linearGelu(mid, w.intermediate(), w.intermediateBias(), ffn);
            } else {
                ops.linear(mid, w.intermediate(), w.intermediateBias(), ffn);
                ops.quickGelu(ffn, ffn);
            }
            ops.linear(ffn, w.output(), w.outputBias(), attn);
            ops.layerNorm(attn, mid, w.outputNormGamma(), w.outputNormBeta(), config.layerNormEps(), x2);
            layerIndex++;
            if (sink != null) {
                sink.accept(layerIndex, x);
            }
        }
        return x;
    }

    /** Frees the activation buffers now (they are re-created, sized to the next batch, on the next forward). */
    public void releaseWorkspace() {
        ws.close();
    }

    /** Frees the workspace; the weights belong to the caller. */
    @Override
    public void close() {
        ws.close();
    }
}
