package io.inflow.gpu.quant;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.encoder.BertEncoder;
import io.inflow.gpu.encoder.BertWeights;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.onnx.OnnxBertWeights;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.EvalSentences;
import io.inflow.gpu.testing.ModelTokenizer;
import io.inflow.gpu.testing.TokenBatch;
import io.inflow.gpu.testing.Vectors;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The integer-only MiniLM against the float MiniLM on the evaluation set (222 sentences up to 256 tokens, never
 * seen by calibration, which uses 64 texts of the bundled calibration set): mean-pooled embeddings, sentence by
 * sentence, and the hidden states after every layer.
 */
class Int8MiniLmAccuracyTest {
    static final int MAX_TOKENS = 256;
    static final int BATCH = 16;
    /** The bar for INT8 embeddings: cosine to float >= 0.99 (measured mean 0.9934 with the defaults). */
    static final double MIN_MEAN_COSINE = 0.99;
    /** The worst sentence (measured 0.970): a floor well below it that a broken layer still falls under. */
    static final double MIN_COSINE = 0.95;
    /**
     * Negative control: the integer path must not be the float path in disguise (measured mean 0.9934); exact
     * float agreement would give 1 - 1e-7.
     */
    static final double MAX_MEAN_COSINE = 0.9999;

    @Test
    void int8EmbeddingsStayCloseToFloat() throws Exception {
        List<String> sentences = EvalSentences.load();
        try (Backend backend = new FastCpuBackend(null, 2)) {
            long t0 = System.nanoTime();
            Int8Bert q = MiniLmInt8Fixture.quantize(backend, 64, 128, CalibrationOptions.defaults());
            System.out.printf("calibration %.1f s%n", (System.nanoTime() - t0) / 1e9);
            q.calibration().forEach(System.out::println);
            OnnxBertWeights w = MiniLmInt8Fixture.weights();
            BertConfig c = w.inferConfig();
            double[] cos = new double[sentences.size()];
            double[] layerNum = new double[c.layers() + 1];
            double[] layerDen = new double[c.layers() + 1];
            try (BertWeights fw = BertWeights.load(w, c, backend);
                 BertEncoder floatEnc = new BertEncoder(backend, c, fw);
                 Int8BertEncoder intEnc = new Int8BertEncoder(backend, q);
                 ModelTokenizer tok = ModelTokenizer.fromResource(MiniLmInt8Fixture.MODEL + "-tokenizer.json",
                         MAX_TOKENS)) {
                List<long[]> ids = sentences.stream().map(tok::ids).toList();
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < ids.size(); i++) {
                    order.add(i);
                }
                order.sort(Comparator.comparingInt(i -> ids.get(i).length));
                int d = c.hidden();
                for (int start = 0; start < order.size(); start += BATCH) {
                    List<Integer> idx = order.subList(start, Math.min(order.size(), start + BATCH));
                    TokenBatch tb = TokenBatch.of(idx.stream().map(ids::get).toArray(long[][]::new));
                    try (Tensor idT = backend.upload(tb.ids(), tb.batch(), tb.seq());
                         Tensor lenT = backend.upload(tb.lengths(), tb.batch())) {
                        float[][] fl = new float[c.layers() + 1][];
                        float[][] il = new float[c.layers() + 1][];
                        float[] fh = floatEnc.forward(idT, lenT, (layer, h) -> fl[layer] = h.toFloatArray())
                                .toFloatArray();
                        intEnc.forwardInteger(idT, lenT, (layer, h) -> il[layer] = dequantize(h.toIntArray()));
                        float[] ih = intEnc.forward(idT, lenT).toFloatArray();
                        for (int layer = 1; layer <= c.layers(); layer++) {
                            accumulateError(fl[layer], il[layer], tb, layer, layerNum, layerDen);
                        }
                        float[] fp = Vectors.meanPool(fh, tb.lengths(), tb.seq(), d);
                        float[] ip = Vectors.meanPool(ih, tb.lengths(), tb.seq(), d);
                        for (int r = 0; r < tb.batch(); r++) {
                            cos[idx.get(r)] = Vectors.cosine(fp, r * d, ip, r * d, d);
                        }
                    }
                }
            }
            for (int layer = 1; layer <= c.layers(); layer++) {
                System.out.printf("layer %d: relative error of hidden states %.4f%n", layer,
                        Math.sqrt(layerNum[layer] / layerDen[layer]));
            }
            double min = 1;
            double sum = 0;
            for (double v : cos) {
                min = Math.min(min, v);
                sum += v;
            }
            double mean = sum / cos.length;
            System.out.printf("int8 MiniLM vs float: mean cosine %.5f, min %.5f over %d sentences%n", mean, min,
                    cos.length);
            assertThat(mean).as("mean cosine to float").isGreaterThanOrEqualTo(MIN_MEAN_COSINE)
                    .isLessThan(MAX_MEAN_COSINE);
            assertThat(min).as("worst sentence's cosine to float").isGreaterThanOrEqualTo(MIN_COSINE);
        }
    }

    static float[] dequantize(int[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = Math.scalb((float) v[i], -IntegerOps.RESIDUAL_BITS);
        }
        return f;
    }

    /** Squared error and squared norm of the valid (non-padding) positions. */
    static void accumulateError(float[] f, float[] q, TokenBatch tb, int layer, double[] num, double[] den) {
        int d = f.length / (tb.batch() * tb.seq());
        for (int r = 0; r < tb.batch(); r++) {
            for (int t = 0; t < tb.lengths()[r]; t++) {
                for (int c = 0; c < d; c++) {
                    int i = (r * tb.seq() + t) * d + c;
                    num[layer] += (f[i] - q[i]) * (f[i] - q[i]);
                    den[layer] += (double) f[i] * f[i];
                }
            }
        }
    }
}
