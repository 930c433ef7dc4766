package io.inflow.gpu.encoder;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.List;

/**
 * The BERT encoder forward pass (post-LayerNorm, as in BERT, MiniLM and BGE) on any {@link Backend}:
 * embeddings + LayerNorm, then per layer self-attention with a key-padding mask, output projection,
 * residual LayerNorm, feed-forward (GELU), residual LayerNorm. Activations live in a {@link Workspace}
 * sized to the largest batch seen; GEMM operands in the backend's {@link TransformerOps#activationType} (bf16 on
 * CUDA, the residual stream always float32). The pass runs through {@link TransformerOps#recorded}, so the CUDA
 * backend replays it as a CUDA graph per batch shape. Not thread-safe: one forward pass at a time per instance.
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
        Tensor x = ws.get("x", b, s, config.hidden());
        DType act = config.activation() == BertConfig.Activation.GELU
                ? ops.activationType(config.hidden() / config.heads()) : DType.FLOAT32;
        ops.recorded(List.of(this, b, s, sink != null), act == DType.FLOAT32
                ? () -> layersFloat32(ids, lengths, x, sink)
                : () -> layersLowPrecision(ids, lengths, x, act, sink));
        return x;
    }

    /** Every activation in float32 (the CPU backends): post-LN layers with the residual added inside LayerNorm. */
    private void layersFloat32(Tensor ids, Tensor lengths, Tensor x, LayerSink sink) {
        int b = ids.dim(0);
        int s = ids.dim(1);
        int d = config.hidden();
        int t = b * s;
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
    }

    /**
     * GEMM operands in {@code act} (bf16 on CUDA): the residual stream {@code x} / {@code mid} stays float32 and each
     * LayerNorm also writes its {@code act} copy for the next GEMM; the output projections add their residual in the
     * GEMM's epilogue ({@code linearResidual}), then LayerNorm runs on the sum alone (the same sum as LayerNorm's own
     * residual input, computed once).
     */
    private void layersLowPrecision(Tensor ids, Tensor lengths, Tensor x, DType act, LayerSink sink) {
        int b = ids.dim(0);
        int s = ids.dim(1);
        int d = config.hidden();
        int t = b * s;
        float eps = config.layerNormEps();
        Tensor xLow = ws.get("x.low", act, b, s, d);
        ops.embed(ids, null, weights.wordEmbeddings(), weights.positionEmbeddings(), weights.typeEmbeddings(), x);
        ops.layerNorm(x, null, weights.embeddingNormGamma(), weights.embeddingNormBeta(), eps, x, xLow);
        Tensor x2 = x.reshape(t, d);
        Tensor qkv = ws.get("qkv.low", act, t, 3 * d);
        Tensor ctx = ws.get("ctx.low", act, b, s, d);
        Tensor mid = ws.get("mid", t, d);
        Tensor midLow = ws.get("mid.low", act, t, d);
        Tensor ffn = ws.get("ffn.low", act, t, config.intermediate());
        int layerIndex = 0;
        for (BertLayerWeights w : weights.layers()) {
            ops.selfAttention(xLow, w.query(), w.queryBias(), w.key(), w.keyBias(), w.value(), w.valueBias(),
                    lengths, config.heads(), qkv, ctx);
            ops.linearResidual(ctx.reshape(t, d), w.attentionOut(), w.attentionOutBias(), x2);
            ops.layerNorm(x2, null, w.attentionNormGamma(), w.attentionNormBeta(), eps, mid, midLow);
            ops.linearGelu(midLow, w.intermediate(), w.intermediateBias(), ffn);
            ops.linearResidual(ffn, w.output(), w.outputBias(), mid);
            ops.layerNorm(mid, null, w.outputNormGamma(), w.outputNormBeta(), eps, x2, xLow.reshape(t, d));
            layerIndex++;
            if (sink != null) {
                sink.accept(layerIndex, x);
            }
        }
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
