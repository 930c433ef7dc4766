package io.inflow.gpu.encoder.vit;

import java.util.List;

/**
 * What {@link VitEncoder#encode} returns for a batch of {@code rows} images: pooled (optionally projected and
 * normalised) embeddings and, when the model has a classifier, its logits and softmax probabilities. Arrays are
 * row-major.
 *
 * <pre>{@code
 * VitOutput out = encoder.encode(pixels);
 * float[] e = out.embeddings();          // [rows * dimension]
 * String label = out.label(0);           // top-1 class name of image 0
 * }</pre>
 *
 * @param rows          images in the batch
 * @param dimension     embedding width
 * @param embeddings    {@code [rows, dimension]}
 * @param labels        class names, index order (empty without a classifier)
 * @param logits        {@code [rows, labels.size()]} (empty without a classifier)
 * @param probabilities softmax of each row of logits (empty without a classifier)
 */
public record VitOutput(int rows, int dimension, float[] embeddings, List<String> labels, float[] logits,
                        float[] probabilities) {

    static VitOutput of(int rows, int dimension, float[] embeddings, List<String> labels, float[] logits) {
        int n = labels.size();
        float[] probs = new float[logits.length];
        for (int r = 0; r < rows && n > 0; r++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int k = 0; k < n; k++) {
                max = Math.max(max, logits[r * n + k]);
            }
            double sum = 0;
            for (int k = 0; k < n; k++) {
                sum += Math.exp(logits[r * n + k] - max);
            }
            for (int k = 0; k < n; k++) {
                probs[r * n + k] = (float) (Math.exp(logits[r * n + k] - max) / sum);
            }
        }
        return new VitOutput(rows, dimension, embeddings, labels, logits, probs);
    }

    public int numLabels() {
        return labels.size();
    }

    /** Index of the largest logit of image {@code row} (the first on ties). */
    public int argmax(int row) {
        int n = numLabels();
        if (n == 0) {
            throw new IllegalStateException("the model has no classifier");
        }
        int best = 0;
        for (int k = 1; k < n; k++) {
            if (logits[row * n + k] > logits[row * n + best]) {
                best = k;
            }
        }
        return best;
    }

    /** Class name of the top-1 prediction for image {@code row}. */
    public String label(int row) {
        return labels.get(argmax(row));
    }
}
