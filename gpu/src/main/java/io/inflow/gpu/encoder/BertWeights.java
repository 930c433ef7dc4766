package io.inflow.gpu.encoder;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.WeightSource;
import io.inflow.gpu.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * All parameters of a BERT encoder, uploaded to a backend and owned here. Loaded by Hugging Face name
 * from any {@link WeightSource}; every tensor is checked against the shape {@link BertConfig} implies,
 * so a missing or mis-shaped weight fails at load with its name and both shapes. The layers' Linear weights and
 * attention projections are declared to the backend at load ({@link TransformerOps#prepareWeights},
 * {@link TransformerOps#prepareSelfAttention}); they must not be changed afterwards.
 *
 * <p>{@code try (BertWeights w = BertWeights.load(source, config, backend)) { ... }}
 */
public final class BertWeights implements AutoCloseable {
    private final Tensor wordEmbeddings;
    private final Tensor positionEmbeddings;
    private final Tensor typeEmbeddings;
    private final Tensor embeddingNormGamma;
    private final Tensor embeddingNormBeta;
    private final List<BertLayerWeights> layers;
    private final List<Tensor> owned;

    private BertWeights(List<Tensor> owned, Tensor word, Tensor position, Tensor type, Tensor gamma, Tensor beta,
                        List<BertLayerWeights> layers) {
        this.owned = owned;
        this.wordEmbeddings = word;
        this.positionEmbeddings = position;
        this.typeEmbeddings = type;
        this.embeddingNormGamma = gamma;
        this.embeddingNormBeta = beta;
        this.layers = List.copyOf(layers);
    }

    /** Reads every weight {@code config} calls for from {@code source} and uploads it to {@code backend}. */
    public static BertWeights load(WeightSource source, BertConfig c, Backend backend) {
        List<Tensor> owned = new ArrayList<>();
        try {
            Loader l = new Loader(source, backend, owned);
            int d = c.hidden();
            Tensor word = l.get("embeddings.word_embeddings.weight", c.vocabSize(), d);
            Tensor pos = l.get("embeddings.position_embeddings.weight", c.maxPositions(), d);
            Tensor type = c.typeVocabSize() == 0 ? null
                    : l.get("embeddings.token_type_embeddings.weight", c.typeVocabSize(), d);
            Tensor gamma = l.get("embeddings.LayerNorm.weight", d);
            Tensor beta = l.get("embeddings.LayerNorm.bias", d);
            List<BertLayerWeights> layers = new ArrayList<>();
            for (int i = 0; i < c.layers(); i++) {
                String p = "encoder.layer." + i + ".";
                int f = c.intermediate();
                layers.add(new BertLayerWeights(
                        l.get(p + "attention.self.query.weight", d, d), l.get(p + "attention.self.query.bias", d),
                        l.get(p + "attention.self.key.weight", d, d), l.get(p + "attention.self.key.bias", d),
                        l.get(p + "attention.self.value.weight", d, d), l.get(p + "attention.self.value.bias", d),
                        l.get(p + "attention.output.dense.weight", d, d), l.get(p + "attention.output.dense.bias", d),
                        l.get(p + "attention.output.LayerNorm.weight", d), l.get(p + "attention.output.LayerNorm.bias", d),
                        l.get(p + "intermediate.dense.weight", f, d), l.get(p + "intermediate.dense.bias", f),
                        l.get(p + "output.dense.weight", d, f), l.get(p + "output.dense.bias", d),
                        l.get(p + "output.LayerNorm.weight", d), l.get(p + "output.LayerNorm.bias", d)));
            }
            prepare(backend, layers);
            return new BertWeights(owned, word, pos, type, gamma, beta, layers);
        } catch (RuntimeException e) {
            owned.forEach(Tensor::close);
            throw e;
        }
    }

    /**
     * Declares the layers' Linear weights and attention projections to the backend, which may keep faster forms of
     * them (CUDA: 16-bit copies, fused QKV); freed with the weights.
     */
    private static void prepare(Backend backend, List<BertLayerWeights> layers) {
        if (!backend.families().contains(Family.TRANSFORMER)) {
            return;
        }
        TransformerOps ops = backend.transformer();
        for (BertLayerWeights w : layers) {
            ops.prepareSelfAttention(w.query(), w.queryBias(), w.key(), w.keyBias(), w.value(), w.valueBias());
            ops.prepareWeights(w.attentionOut(), w.intermediate(), w.output());
        }
    }

    public Tensor wordEmbeddings() {
        return wordEmbeddings;
    }

    public Tensor positionEmbeddings() {
        return positionEmbeddings;
    }

    /** Null when the model has no token-type embedding. */
    public Tensor typeEmbeddings() {
        return typeEmbeddings;
    }

    public Tensor embeddingNormGamma() {
        return embeddingNormGamma;
    }

    public Tensor embeddingNormBeta() {
        return embeddingNormBeta;
    }

    public List<BertLayerWeights> layers() {
        return layers;
    }

    @Override
    public void close() {
        owned.forEach(Tensor::close);
    }

    private record Loader(WeightSource source, Backend backend, List<Tensor> owned) {
        Tensor get(String name, int... shape) {
            Tensor t = backend.upload(source.require(name, shape).data(), shape);
            owned.add(t);
            return t;
        }
    }
}
