package io.inflow.gpu.quant;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.onnx.OnnxBertWeights;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.testing.EvalSentences;
import io.inflow.gpu.testing.ModelTokenizer;
import io.inflow.gpu.testing.OrtEncoder;
import io.inflow.gpu.testing.TokenBatch;
import io.inflow.gpu.testing.Vectors;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The langchain4j {@code -q} MiniLM (ONNX Runtime's dynamic INT8: per-tensor activation scales computed at run time,
 * MLAS int8 GEMMs, float everywhere else) loaded and compared with our integer-only INT8 MiniLM (static scales, no
 * float at all), each against its own float model on the 222 evaluation sentences. Both are 8-bit; the test pins
 * that the integer-only path loses no more than the dynamic one does (measured: ours 0.9934, ORT's 0.9897).
 */
class Int8OrtComparisonTest {
    /** Ours may trail ORT's dynamic INT8 by at most this much mean cosine (it leads by 0.004 as measured). */
    static final double MARGIN = 0.002;

    @Test
    void integerOnlyInt8IsAsCloseToFloatAsOrtsDynamicInt8() throws Exception {
        List<String> sentences = EvalSentences.load();
        OnnxBertWeights w = MiniLmInt8Fixture.weights();
        BertConfig c = w.inferConfig();
        double ort = 0;
        try (OrtEncoder f32 = new OrtEncoder("all-minilm-l6-v2.onnx", 2);
             OrtEncoder q8 = new OrtEncoder("all-minilm-l6-v2-q.onnx", 2);
             ModelTokenizer tok = ModelTokenizer.fromResource("all-minilm-l6-v2-tokenizer.json", 256)) {
            for (String s : sentences) {
                TokenBatch tb = tok.batch(List.of(s));
                float[] a = Vectors.meanPool(f32.lastHiddenState(tb), tb.lengths(), tb.seq(), c.hidden());
                float[] b = Vectors.meanPool(q8.lastHiddenState(tb), tb.lengths(), tb.seq(), c.hidden());
                ort += Vectors.cosine(a, 0, b, 0, c.hidden());
            }
        }
        ort /= sentences.size();
        double ours;
        try (Backend backend = new FastCpuBackend(null, 2);
             TextTokenizer tok = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, 256)) {
            Int8Bert q = MiniLmInt8Fixture.quantize(backend, 64, 128, CalibrationOptions.defaults());
            ours = TextQuantization.accuracy(backend, w, c, q, tok, sentences, PoolingMode.MEAN).mean();
        }
        System.out.printf("mean cosine to float on %d sentences: integer-only INT8 %.5f, ORT dynamic INT8 %.5f%n",
                sentences.size(), ours, ort);
        assertThat(ort).as("ORT's -q model is a real INT8 model, not the float one").isBetween(0.95, 0.9999);
        assertThat(ours).isGreaterThanOrEqualTo(ort - MARGIN);
    }
}
