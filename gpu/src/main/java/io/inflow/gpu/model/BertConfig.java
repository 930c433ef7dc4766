package io.inflow.gpu.model;

/**
 * The shape of a BERT-family encoder, from a Hugging Face {@code config.json} or inferred from an ONNX
 * graph. Checked at construction so that a bad config fails before any weight is read.
 *
 * <p>{@code new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12f, Activation.GELU)}
 *
 * @param vocabSize             word-embedding rows
 * @param hidden                model width d
 * @param layers                transformer layers
 * @param heads                 attention heads (d must be divisible by it)
 * @param intermediate          feed-forward width
 * @param maxPositions          position-embedding rows (the longest sequence)
 * @param typeVocabSize         token-type rows (0 when the model has no token-type embedding)
 * @param layerNormEps          LayerNorm epsilon
 * @param activation            feed-forward activation
 */
public record BertConfig(int vocabSize, int hidden, int layers, int heads, int intermediate, int maxPositions,
                         int typeVocabSize, float layerNormEps, Activation activation) {

    /** Feed-forward activations: GELU in erf form (BERT) or quick GELU (CLIP-style). */
    public enum Activation { GELU, QUICK_GELU }

    public BertConfig {
        positive("vocabSize", vocabSize);
        positive("hidden", hidden);
        positive("layers", layers);
        positive("heads", heads);
        positive("intermediate", intermediate);
        positive("maxPositions", maxPositions);
        if (typeVocabSize < 0) {
            throw new IllegalArgumentException("typeVocabSize must be >= 0 (found " + typeVocabSize + ")");
        }
        if (hidden % heads != 0) {
            throw new IllegalArgumentException("hidden " + hidden + " is not divisible by heads " + heads);
        }
        if (!(layerNormEps > 0)) {
            throw new IllegalArgumentException("layerNormEps must be > 0 (found " + layerNormEps + ")");
        }
    }

    public int headDim() {
        return hidden / heads;
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be positive (found " + v + ")");
        }
    }
}
