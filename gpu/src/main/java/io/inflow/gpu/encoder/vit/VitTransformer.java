package io.inflow.gpu.encoder.vit;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * The vision-transformer forward pass on any {@link Backend}: patch embedding ({@link io.inflow.gpu.backend.ImageOps#patchify}, then one
 * {@code linear} with the flattened convolution weight), class token and position embeddings, the optional
 * pre-encoder LayerNorm (CLIP), pre-LN blocks ({@code x += attn(LN1(x))}, {@code x += mlp(LN2(x))}) and the final
 * LayerNorm over every token. Activations live in a {@link Workspace} sized to the largest batch seen. Not
 * thread-safe: one forward pass at a time per instance.
 *
 * <pre>{@code
 * try (VitTransformer vit = new VitTransformer(backend, config, weights)) {
 *     Tensor hidden = vit.forward(pixels);   // [b, tokens, hidden], valid until the next forward
 * }
 * }</pre>
 */
public final class VitTransformer implements AutoCloseable {
    private final Backend backend;
    private final TransformerOps ops;
    private final VitConfig config;
    private final VitWeights weights;
    private final Workspace ws;
    /** int32 [b]: every row at full length (images have no padding), written by the last forward. */
    private Tensor lengths;

    public VitTransformer(Backend backend, VitConfig config, VitWeights weights) {
        this.backend = backend;
        this.ops = backend.transformer();
        this.config = config;
        this.weights = weights;
        this.ws = new Workspace(backend);
    }

    /**
     * Runs the encoder on {@code pixels}, float32 {@code [b, c, h, w]} in backend memory or in host memory (e.g. an
     * Arrow buffer; a CUDA backend copies it to the device first), and returns the final-LayerNorm hidden states
     * {@code [b, tokens, hidden]} (a workspace view, valid until the next call); token 0 is the class token.
     */
    public Tensor forward(Tensor pixels) {
        int[] expected = {config.channels(), config.imageSize(), config.imageSize()};
        if (pixels.dtype() != DType.FLOAT32 || pixels.rank() != 4
                || !Arrays.equals(Arrays.copyOfRange(pixels.shape(), 1, 4), expected)) {
            throw new IllegalArgumentException("vit forward: pixel values must be float32 [batch, "
                    + expected[0] + ", " + expected[1] + ", " + expected[2] + "] (found " + pixels + ")");
        }
        int b = pixels.dim(0);
        if (b < 1) {
            throw new IllegalArgumentException("vit forward: empty batch (" + pixels + ")");
        }
        int d = config.hidden();
        int np = config.patches();
        int s = config.tokens();
        int t = b * s;
        int p = config.patchSize();
        if (pixels.location() == Tensor.Location.HOST && backend.kind() == BackendKind.CUDA) {
            Tensor onDevice = ws.get("pixels", pixels.shape());
            backend.copy(pixels, onDevice);
            pixels = onDevice;
        }
        Tensor patches = ws.get("patches", b * np, config.channels() * p * p);
        backend.image().patchify(pixels, p, patches);
        Tensor emb = ws.get("patch.emb", b * np, d);
        ops.linear(patches, weights.patchWeight, weights.patchBias, emb);
        Tensor x = ws.get("x", b, s, d);
        for (int i = 0; i < b; i++) {
            backend.copy(weights.classTokenWithPosition, x.view((long) i * s * d, d));
            Tensor rows = x.view((long) i * s * d + d, np, d);
            ops.add(emb.view((long) i * np * d, np, d), weights.patchPositions, rows);
        }
        Tensor x2 = x.reshape(t, d);
        if (weights.preNormGamma != null) {
            ops.layerNorm(x2, null, weights.preNormGamma, weights.preNormBeta, config.layerNormEps(), x2);
        }
        lengths = ws.get("lengths", DType.INT32, b);
        int[] full = new int[b];
        Arrays.fill(full, s);
        backend.write(lengths, full);
        DType act = config.activation() == VitConfig.Activation.GELU
                ? ops.activationType(d / config.heads()) : DType.FLOAT32;
        ops.recorded(List.of(this, b), () -> blocks(x, b, act));
        return x;
    }

    /**
     * The pre-LN blocks and the final LayerNorm on {@code x [b, tokens, hidden]} in place; the LayerNorm outputs,
     * q/k/v, the context and the MLP's hidden layer in {@code act} (bf16 on CUDA), the residual stream float32.
     */
    private void blocks(Tensor x, int b, DType act) {
        int d = config.hidden();
        int s = config.tokens();
        int t = b * s;
        Tensor x2 = x.reshape(t, d);
        Tensor h = ws.get(act == DType.FLOAT32 ? "h" : "h.low", act, b, s, d);
        Tensor h2 = h.reshape(t, d);
        Tensor qkv = ws.get(act == DType.FLOAT32 ? "qkv" : "qkv.low", act, 3 * t * d);
        Tensor ctx = ws.get(act == DType.FLOAT32 ? "ctx" : "ctx.low", act, b, s, d);
        Tensor mlp = ws.get(act == DType.FLOAT32 ? "mlp" : "mlp.low", act, t, config.intermediate());
        float eps = config.layerNormEps();
        for (VitLayerWeights w : weights.layers) {
            ops.layerNorm(x2, null, w.norm1Gamma(), w.norm1Beta(), eps, h2);
            ops.selfAttention(h, w.query(), w.queryBias(), w.key(), w.keyBias(), w.value(), w.valueBias(),
                    lengths, config.heads(), qkv, ctx);
            ops.linearResidual(ctx.reshape(t, d), w.attentionOut(), w.attentionOutBias(), x2);
            ops.layerNorm(x2, null, w.norm2Gamma(), w.norm2Beta(), eps, h2);
            if (config.activation() == VitConfig.Activation.GELU) {
                ops.linearGelu(h2, w.up(), w.upBias(), mlp);
            } else {
                ops.linear(h2, w.up(), w.upBias(), mlp);
                ops.quickGelu(mlp, mlp);
            }
            ops.linearResidual(mlp, w.down(), w.downBias(), x2);
        }
        ops.layerNorm(x2, null, weights.finalNormGamma, weights.finalNormBeta, eps, x2);
    }

    /** The int32 {@code [b]} lengths of the last {@link #forward} (all {@code tokens}), for mask-aware pooling. */
    public Tensor lengths() {
        return lengths;
    }

    /** Frees the activation buffers now (re-created, sized to the next batch, on the next forward). */
    public void releaseWorkspace() {
        ws.close();
    }

    /** Frees the workspace; the weights belong to the caller. */
    @Override
    public void close() {
        ws.close();
    }
}
