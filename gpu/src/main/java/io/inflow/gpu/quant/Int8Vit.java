package io.inflow.gpu.quant;

import io.inflow.gpu.encoder.vit.VitConfig;
import java.util.List;

/**
 * A vision transformer (Hugging Face ViT or CLIP vision tower) quantized for the integer-only path. Built by
 * {@link VitQuantizer}; run by {@link Int8VitEncoder}.
 *
 * <p>The float boundary is the input: preprocessed pixels are cut into patches (im2col) and quantized to int8 with
 * {@code inputScale} ({@link QuantizedOps#quantize}). From there on everything is integer: the patch embedding
 * ({@code patchEmbedding}, int8 weights, int32 bias) is requantised onto the residual stream (INT32 at 2^-12),
 * where the class token and the position embeddings are added as int32 at 2^-12 ({@code classToken} already holds
 * the class embedding plus position 0, as the float code stores it); then the pre-LN blocks, the final LayerNorm
 * on the class token and the classifier, whose INT32 logits are at 2^-{@link #LOGIT_BITS}.
 *
 * <pre>{@code
 * Int8Vit model = VitQuantizer.quantize(weights, config, calibrationPixels, backend,
 *         CalibrationOptions.defaults(), System.out::println);
 * try (Int8VitEncoder enc = new Int8VitEncoder(backend, model)) {
 *     int[] top1 = enc.predict(pixels);
 * }
 * }</pre>
 *
 * @param inputScale         the real value of one int8 step of the input patches
 * @param patchEmbedding     the patch convolution as a linear {@code [hidden, channels * patch^2]}
 * @param patchToResidual    its accumulators onto the residual stream (INT32 at 2^-12)
 * @param classToken         class embedding plus position embedding 0, {@code [hidden]}, INT32 at 2^-12
 * @param patchPositions     position embeddings 1.., {@code [patches, hidden]}, INT32 at 2^-12
 * @param preNorm            CLIP's LayerNorm before the first block, residual output only; null for ViT
 * @param finalNorm          the final LayerNorm (applied to the class token): its int8 output feeds the classifier,
 *                           its residual output is the class-token feature vector
 * @param classifier         the image-classification head, null when the model has none
 * @param classifierToLogits its accumulators to INT32 logits at 2^-{@link #LOGIT_BITS} (null without a classifier)
 * @param calibration        what calibration saw at each quantization point, in forward order
 */
public record Int8Vit(VitConfig config, float inputScale, Int8Linear patchEmbedding, Requant patchToResidual,
                      int[] classToken, int[] patchPositions, IntLayerNorm preNorm, List<Int8VitLayer> layers,
                      IntLayerNorm finalNorm, Int8Linear classifier, Requant classifierToLogits,
                      List<CalibrationPoint> calibration) {

    /** Fractional bits of the integer logits (the residual stream's). */
    public static final int LOGIT_BITS = IntegerOps.RESIDUAL_BITS;

    public Int8Vit {
        layers = List.copyOf(layers);
        calibration = List.copyOf(calibration);
        int d = config.hidden();
        int k = config.channels() * config.patchSize() * config.patchSize();
        if (layers.size() != config.layers()) {
            throw new IllegalArgumentException(layers.size() + " quantized layers for a " + config.layers()
                    + "-layer config");
        }
        if (patchEmbedding.out() != d || patchEmbedding.in() != k) {
            throw new IllegalArgumentException("patch embedding [" + patchEmbedding.out() + ", " + patchEmbedding.in()
                    + "] for hidden " + d + " and " + k + " values per patch");
        }
        if (classToken.length != d || patchPositions.length != config.patches() * d) {
            throw new IllegalArgumentException("class token of " + classToken.length + " and positions of "
                    + patchPositions.length + " values for hidden " + d + " and " + config.patches() + " patches");
        }
        if (!(inputScale > 0) || !Float.isFinite(inputScale)) {
            throw new IllegalArgumentException("input scale " + inputScale + " must be positive and finite");
        }
        if ((classifier == null) != (classifierToLogits == null)
                || classifier != null && (classifier.in() != d || classifier.out() != config.numLabels())) {
            throw new IllegalArgumentException("classifier " + (classifier == null ? "absent" : "[" + classifier.out()
                    + ", " + classifier.in() + "]") + " for " + config.numLabels() + " labels and hidden " + d);
        }
    }

    /** Whether the model has a classification head (integer logits are produced only then). */
    public boolean hasClassifier() {
        return classifier != null;
    }

    /** Bytes of all integer parameters (weights, biases, the class token and position tables). */
    public long weightBytes() {
        long n = patchEmbedding.bytes() + 4L * (classToken.length + patchPositions.length);
        for (Int8VitLayer l : layers) {
            n += l.weightBytes();
        }
        return n + (classifier == null ? 0 : classifier.bytes());
    }
}
