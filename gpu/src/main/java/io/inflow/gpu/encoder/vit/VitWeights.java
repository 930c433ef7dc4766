package io.inflow.gpu.encoder.vit;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.WeightSource;
import io.inflow.gpu.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * All parameters of a vision transformer, uploaded to a backend and owned here. Loaded by the {@link VitLayout}'s
 * names from any {@link WeightSource}; every tensor is checked against the shape {@link VitConfig} implies, so a
 * missing or mis-shaped weight fails at load with its name and both shapes. The patch convolution
 * {@code [hidden, c, p, p]} is kept flattened as a Linear weight {@code [hidden, c * p * p]}; the class token is
 * stored with the first position embedding already added. The Linear weights and attention projections are declared
 * to the backend at load ({@link TransformerOps#prepareWeights}, {@link TransformerOps#prepareSelfAttention}); they
 * must not be changed afterwards.
 *
 * <p>{@code try (VitWeights w = VitWeights.load(source, config, backend)) { ... }}
 */
public final class VitWeights implements AutoCloseable {
    private final List<Tensor> owned;
    final Tensor patchWeight;
    final Tensor patchBias;
    final Tensor classTokenWithPosition;
    final Tensor patchPositions;
    final Tensor preNormGamma;
    final Tensor preNormBeta;
    final List<VitLayerWeights> layers;
    final Tensor finalNormGamma;
    final Tensor finalNormBeta;
    final Tensor classifier;
    final Tensor classifierBias;

    private VitWeights(List<Tensor> owned, Tensor patchWeight, Tensor patchBias, Tensor classTokenWithPosition,
                       Tensor patchPositions, Tensor preNormGamma, Tensor preNormBeta, List<VitLayerWeights> layers,
                       Tensor finalNormGamma, Tensor finalNormBeta, Tensor classifier, Tensor classifierBias) {
        this.owned = owned;
        this.patchWeight = patchWeight;
        this.patchBias = patchBias;
        this.classTokenWithPosition = classTokenWithPosition;
        this.patchPositions = patchPositions;
        this.preNormGamma = preNormGamma;
        this.preNormBeta = preNormBeta;
        this.layers = List.copyOf(layers);
        this.finalNormGamma = finalNormGamma;
        this.finalNormBeta = finalNormBeta;
        this.classifier = classifier;
        this.classifierBias = classifierBias;
    }

    /** Reads every weight {@code c} calls for from {@code source} and uploads it to {@code backend}. */
    public static VitWeights load(WeightSource source, VitConfig c, Backend backend) {
        List<Tensor> owned = new ArrayList<>();
        try {
            VitLayout n = c.layout();
            boolean vit = n == VitLayout.HF_VIT;
            int d = c.hidden();
            int f = c.intermediate();
            int p = c.patchSize();
            int tokens = c.tokens();
            int k = c.channels() * p * p;
            Tensor patchWeight = up(backend, owned,
                    source.require(n.patchProjection() + ".weight", d, c.channels(), p, p).data(), d, k);
            Tensor patchBias = n.patchBias() ? up(backend, owned, source.require(n.patchProjection() + ".bias", d).data(), d)
                    : null;
            float[] cls = vit ? source.require(n.classToken(), 1, 1, d).data() : source.require(n.classToken(), d).data();
            WeightArray posArray = vit ? source.require(n.positionEmbeddings(), 1, tokens, d)
                    : source.require(n.positionEmbeddings(), tokens, d);
            float[] pos = posArray.data();
            float[] cls0 = new float[d];
            for (int j = 0; j < d; j++) {
                cls0[j] = cls[j] + pos[j];
            }
            float[] patchPos = new float[(tokens - 1) * d];
            System.arraycopy(pos, d, patchPos, 0, patchPos.length);
            Tensor classToken = up(backend, owned, cls0, d);
            Tensor positions = up(backend, owned, patchPos, tokens - 1, d);
            Tensor preGamma = n.preNorm() == null ? null : get(source, backend, owned, n.preNorm() + ".weight", d);
            Tensor preBeta = n.preNorm() == null ? null : get(source, backend, owned, n.preNorm() + ".bias", d);
            List<VitLayerWeights> layers = new ArrayList<>();
            for (int i = 0; i < c.layers(); i++) {
                layers.add(new VitLayerWeights(
                        get(source, backend, owned, n.norm1(i) + ".weight", d), get(source, backend, owned, n.norm1(i) + ".bias", d),
                        get(source, backend, owned, n.query(i) + ".weight", d, d), get(source, backend, owned, n.query(i) + ".bias", d),
                        get(source, backend, owned, n.key(i) + ".weight", d, d), get(source, backend, owned, n.key(i) + ".bias", d),
                        get(source, backend, owned, n.value(i) + ".weight", d, d), get(source, backend, owned, n.value(i) + ".bias", d),
                        get(source, backend, owned, n.attentionOut(i) + ".weight", d, d),
                        get(source, backend, owned, n.attentionOut(i) + ".bias", d),
                        get(source, backend, owned, n.norm2(i) + ".weight", d), get(source, backend, owned, n.norm2(i) + ".bias", d),
                        get(source, backend, owned, n.mlpUp(i) + ".weight", f, d), get(source, backend, owned, n.mlpUp(i) + ".bias", f),
                        get(source, backend, owned, n.mlpDown(i) + ".weight", d, f), get(source, backend, owned, n.mlpDown(i) + ".bias", d)));
            }
            Tensor finalGamma = get(source, backend, owned, n.finalNorm() + ".weight", d);
            Tensor finalBeta = get(source, backend, owned, n.finalNorm() + ".bias", d);
            Tensor classifier = null;
            Tensor classifierBias = null;
            int labels = c.numLabels();
            boolean present = source.find(n.classifier() + ".weight").isPresent();
            if (c.classifier() || (labels > 0 && present)) {
                classifier = get(source, backend, owned, n.classifier() + ".weight", labels, d);
                classifierBias = get(source, backend, owned, n.classifier() + ".bias", labels);
            }
            prepare(backend, layers, patchWeight, classifier);
            return new VitWeights(owned, patchWeight, patchBias, classToken, positions, preGamma, preBeta, layers,
                    finalGamma, finalBeta, classifier, classifierBias);
        } catch (RuntimeException e) {
            owned.forEach(Tensor::close);
            throw e;
        }
    }

    /** Whether the model has a classification head (logits are produced only then). */
    public boolean hasClassifier() {
        return classifier != null;
    }

    /**
     * The same tensors without the pre-encoder LayerNorm: a non-owning view for tests that compare the CLIP layout
     * with the ViT one (which has no such LayerNorm). Closing the view frees nothing.
     */
    VitWeights withoutPreNorm() {
        return new VitWeights(List.of(), patchWeight, patchBias, classTokenWithPosition, patchPositions, null, null,
                layers, finalNormGamma, finalNormBeta, classifier, classifierBias);
    }

    /**
     * Declares the Linear weights and attention projections to the backend, which may keep faster forms of them
     * (CUDA: 16-bit copies, fused QKV); freed with the weights. {@code classifier} may be null.
     */
    private static void prepare(Backend backend, List<VitLayerWeights> layers, Tensor patchWeight, Tensor classifier) {
        if (!backend.families().contains(Family.TRANSFORMER)) {
            return;
        }
        TransformerOps ops = backend.transformer();
        ops.prepareWeights(classifier == null ? new Tensor[] {patchWeight} : new Tensor[] {patchWeight, classifier});
        for (VitLayerWeights w : layers) {
            ops.prepareSelfAttention(w.query(), w.queryBias(), w.key(), w.keyBias(), w.value(), w.valueBias());
            ops.prepareWeights(w.attentionOut(), w.up(), w.down());
        }
    }

    private static Tensor get(WeightSource source, Backend backend, List<Tensor> owned, String name, int... shape) {
        return up(backend, owned, source.require(name, shape).data(), shape);
    }

    private static Tensor up(Backend backend, List<Tensor> owned, float[] data, int... shape) {
        Tensor t = backend.upload(data, shape);
        owned.add(t);
        return t;
    }

    @Override
    public void close() {
        owned.forEach(Tensor::close);
    }
}
