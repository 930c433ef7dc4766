package io.inflow.gpu.quant;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.encoder.vit.VitConfig;
import io.inflow.gpu.encoder.vit.VitOutput;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * The integer-only ViT forward pass ({@link Int8Vit}) on any backend with the {@link Family#QUANTIZED} and
 * {@link Family#IMAGE} families: preprocessed float pixels {@code [b, c, h, w]} are cut into patches and quantized
 * at the boundary ({@link QuantizedOps#quantize}); from there to the INT32 logits everything is integer. Top-1 is
 * the argmax of the integer logits. Not thread-safe: one forward pass at a time per instance.
 *
 * <pre>{@code
 * try (Int8VitEncoder enc = new Int8VitEncoder(backend, model)) {
 *     int[] top1 = enc.predict(pixels);             // pixels: FLOAT32 [b, 1, 28, 28], preprocessed
 *     Tensor logits = enc.logits();                 // INT32 [b, labels] at 2^-12, of that same call
 *     VitOutput out = enc.encode(pixels);           // dequantized class-token features and logits
 * }
 * }</pre>
 */
public final class Int8VitEncoder implements AutoCloseable {
    private final Backend backend;
    private final QuantizedOps ops;
    private final Int8Vit model;
    private final Workspace ws;
    private final Tensor classToken;
    private final Tensor positions;
    private Tensor features;
    private Tensor logits;

    /** Uploads the class token and position tables once; the rest of the model is read by the kernels. */
    public Int8VitEncoder(Backend backend, Int8Vit model) {
        backend.require(Family.QUANTIZED);
        backend.require(Family.IMAGE);
        this.backend = backend;
        this.ops = backend.quantized();
        this.model = model;
        this.ws = new Workspace(backend);
        VitConfig c = model.config();
        this.classToken = backend.upload(model.classToken(), 1, c.hidden());
        Tensor pos = null;
        try {
            pos = backend.upload(model.patchPositions(), c.patches(), c.hidden());
        } finally {
            if (pos == null) {
                classToken.close();
            }
        }
        this.positions = pos;
    }

    public Int8Vit model() {
        return model;
    }

    public Backend backend() {
        return backend;
    }

    /**
     * Runs the integer path on {@code pixels} (FLOAT32 {@code [b, c, h, w]}, preprocessed, in backend or host
     * memory) and returns the class token after the final LayerNorm, INT32 {@code [b, hidden]} at 2^-12 (a workspace
     * view, valid until the next call); when the model has a classifier, {@link #logits()} then holds its logits.
     */
    public Tensor forwardInteger(Tensor pixels) {
        VitConfig c = model.config();
        int b = checkPixels(c, pixels);
        int d = c.hidden();
        int np = c.patches();
        int s = c.tokens();
        int t = b * s;
        int k = c.channels() * c.patchSize() * c.patchSize();
        if (pixels.location() == Tensor.Location.HOST && backend.kind() == BackendKind.CUDA) {
            Tensor onDevice = ws.get("pixels", DType.FLOAT32, pixels.shape());
            backend.copy(pixels, onDevice);
            pixels = onDevice;
        }
        Tensor patches = ws.get("patches", DType.FLOAT32, b * np, k);
        backend.image().patchify(pixels, c.patchSize(), patches);
        Tensor pq = ws.get("patches.q", DType.INT8, b * np, k);
        ops.quantize(patches, model.inputScale(), pq);
        Tensor emb = ws.get("patch.emb", DType.INT32, b * np, d);
        ops.linear(pq, model.patchEmbedding(), model.patchToResidual(), emb);
        Tensor x = ws.get("x", DType.INT32, t, d);
        assemble(backend, ops, emb, classToken, positions, x, b, np, d);
        if (model.preNorm() != null) {
            ops.layerNorm(x, null, model.preNorm(), null, x);
        }
        Tensor lengths = ws.get("lengths", DType.INT32, b);
        int[] full = new int[b];
        Arrays.fill(full, s);
        backend.write(lengths, full);
        int f = c.intermediate();
        Tensor hq = ws.get("hq", DType.INT8, t, d);
        Tensor qkv = ws.get("qkv", DType.INT8, t, 3 * d);
        Tensor ctx = ws.get("ctx", DType.INT8, t, d);
        Tensor acc = ws.get("acc", DType.INT32, t, d);
        Tensor ffn = ws.get("ffn", DType.INT32, t, f);
        Tensor ffnq = ws.get("ffnq", DType.INT8, t, 2 * f);
        for (Int8VitLayer l : model.layers()) {
            ops.layerNorm(x, null, l.norm1(), hq, null);
            ops.linear(hq, l.qkv(), l.qkvOut(), qkv);
            ops.attention(qkv, lengths, b, s, c.heads(), l.score(), l.ctxOut(), ctx);
            ops.linear(ctx, l.attentionOut(), l.attentionOutToResidual(), acc);
            ops.add(x, acc, x);
            ops.layerNorm(x, null, l.norm2(), hq, null);
            ops.linear(hq, l.fc1(), l.fc1ToGelu(), ffn);
            ops.gelu(ffn, l.geluOut(), ffnq);
            ops.linearWide(ffnq, l.fc2(), l.fc2ToResidual(), acc);
            ops.add(x, acc, x);
        }
        Tensor cls = ws.get("cls", DType.INT32, b, d);
        gatherClassTokens(backend, x, cls, b, s, d);
        features = ws.get("features", DType.INT32, b, d);
        if (model.hasClassifier()) {
            Tensor clsq = ws.get("cls.q", DType.INT8, b, d);
            ops.layerNorm(cls, null, model.finalNorm(), clsq, features);
            logits = ws.get("logits", DType.INT32, b, c.numLabels());
            ops.linear(clsq, model.classifier(), model.classifierToLogits(), logits);
        } else {
            ops.layerNorm(cls, null, model.finalNorm(), null, features);
            logits = null;
        }
        return features;
    }

    /** INT32 logits {@code [b, labels]} at 2^-{@link Int8Vit#LOGIT_BITS} of the last {@link #forwardInteger}. */
    public Tensor logits() {
        if (!model.hasClassifier()) {
            throw new IllegalStateException("the quantized model has no classifier");
        }
        if (logits == null) {
            throw new IllegalStateException("no forward pass has run yet");
        }
        return logits;
    }

    /** The top-1 class of each image: the argmax of its integer logits (the first on ties). */
    public int[] predict(Tensor pixels) {
        forwardInteger(pixels);
        return argmax(backend.downloadInts(logits()), model.config().numLabels());
    }

    /**
     * As {@link VitOutput} from the float encoder: the class-token features (CLS pooling, no head, not normalised)
     * and, with a classifier, the logits, both dequantized exactly from the integers, with softmax probabilities.
     */
    public VitOutput encode(Tensor pixels) {
        VitConfig c = model.config();
        int b = pixels.dim(0);
        Tensor feat = forwardInteger(pixels);
        float[] e = dequantized("features.f", feat, IntegerOps.RESIDUAL_BITS);
        if (!model.hasClassifier()) {
            return new VitOutput(b, c.hidden(), e, List.of(), new float[0], new float[0]);
        }
        float[] z = dequantized("logits.f", logits, Int8Vit.LOGIT_BITS);
        int n = c.numLabels();
        float[] probs = new float[z.length];
        for (int r = 0; r < b; r++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                max = Math.max(max, z[r * n + j]);
            }
            double sum = 0;
            for (int j = 0; j < n; j++) {
                sum += Math.exp(z[r * n + j] - max);
            }
            for (int j = 0; j < n; j++) {
                probs[r * n + j] = (float) (Math.exp(z[r * n + j] - max) / sum);
            }
        }
        return new VitOutput(b, c.hidden(), e, c.labels(), z, probs);
    }

    private float[] dequantized(String name, Tensor x, int bits) {
        Tensor out = ws.get(name, DType.FLOAT32, x.shape());
        ops.dequantize(x, bits, out);
        return backend.download(out);
    }

    /** Row-wise argmax of {@code v [rows, n]}, the first index on ties. */
    static int[] argmax(int[] v, int n) {
        int[] out = new int[v.length / n];
        for (int r = 0; r < out.length; r++) {
            int best = 0;
            for (int j = 1; j < n; j++) {
                if (v[r * n + j] > v[r * n + best]) {
                    best = j;
                }
            }
            out[r] = best;
        }
        return out;
    }

    /** Checks {@code pixels} against the model's input shape; returns the batch size. */
    static int checkPixels(VitConfig c, Tensor pixels) {
        int[] expected = {c.channels(), c.imageSize(), c.imageSize()};
        if (pixels.dtype() != DType.FLOAT32 || pixels.rank() != 4
                || !Arrays.equals(Arrays.copyOfRange(pixels.shape(), 1, 4), expected)) {
            throw new IllegalArgumentException("int8 vit: pixel values must be float32 [batch, " + expected[0] + ", "
                    + expected[1] + ", " + expected[2] + "] (found " + pixels + ")");
        }
        if (pixels.dim(0) < 1) {
            throw new IllegalArgumentException("int8 vit: empty batch (" + pixels + ")");
        }
        return pixels.dim(0);
    }

    /**
     * The token rows on the residual stream: per image, the class token row, then each patch embedding plus its
     * position embedding (INT32 saturating add), {@code x} INT32 {@code [b * (np + 1), d]}.
     */
    static void assemble(Backend backend, QuantizedOps ops, Tensor emb, Tensor classToken, Tensor positions, Tensor x,
                         int b, int np, int d) {
        int s = np + 1;
        for (int i = 0; i < b; i++) {
            backend.copy(classToken, x.view((long) i * s * d, 1, d));
            ops.add(emb.view((long) i * np * d, np, d), positions, x.view((long) i * s * d + d, np, d));
        }
    }

    /** Row 0 of every image's tokens: {@code x [b * s, d]} to {@code cls [b, d]}. */
    static void gatherClassTokens(Backend backend, Tensor x, Tensor cls, int b, int s, int d) {
        for (int i = 0; i < b; i++) {
            backend.copy(x.view((long) i * s * d, 1, d), cls.view((long) i * d, 1, d));
        }
    }

    /** Frees the activation buffers and the uploaded tables; the model is a heap object and needs no closing. */
    @Override
    public void close() {
        ws.close();
        classToken.close();
        positions.close();
    }
}
