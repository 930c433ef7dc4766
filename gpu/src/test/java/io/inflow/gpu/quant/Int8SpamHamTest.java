package io.inflow.gpu.quant;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.head.ClassifierHead;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.ModelTokenizer;
import io.inflow.gpu.testing.TokenBatch;
import io.inflow.gpu.testing.Vectors;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bundled spam/ham scorer on INT8 embeddings: the integer-only MiniLM feeds the same head, on the 300 held-out
 * emails of {@code spam-ham/held-out-sample.jsonl}; held-out accuracy must stay within the 0.5 points of the
 * float embeddings' accuracy recorded by the training run ({@code training.json}).
 */
class Int8SpamHamTest {
    /** The bar, 0.5 points; on 300 emails one email is 0.33 points, so at most one more mistake. */
    static final double MAX_DROP = 0.005;

    @Test
    void int8EmbeddingsKeepTheScorersAccuracy() throws Exception {
        ClassifierHead head = ClassifierHead.fromResource("models/spam-ham-minilm");
        ObjectMapper json = new ObjectMapper();
        double floatAccuracy = json.readTree(resource("models/spam-ham-minilm/training.json"))
                .at("/results/held_out_sample/accuracy").asDouble();
        List<String> texts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (String line : new String(resource("spam-ham/held-out-sample.jsonl"), StandardCharsets.UTF_8).split("\n")) {
            JsonNode e = json.readTree(line);
            texts.add(e.get("text").asText());
            labels.add(e.get("label").asText());
        }
        int d = head.dimension();
        float[] emb = new float[texts.size() * d];
        try (Backend backend = new FastCpuBackend(null, 2);
             ModelTokenizer tok = ModelTokenizer.fromResource("all-minilm-l6-v2-tokenizer.json",
                     head.config().maxTokens())) {
            Int8Bert q = MiniLmInt8Fixture.quantize(backend, 64, 128, CalibrationOptions.defaults());
            List<long[]> ids = texts.stream().map(tok::ids).toList();
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                order.add(i);
            }
            order.sort(Comparator.comparingInt(i -> ids.get(i).length));
            try (Int8BertEncoder enc = new Int8BertEncoder(backend, q)) {
                for (int start = 0; start < order.size(); start += 16) {
                    List<Integer> idx = order.subList(start, Math.min(order.size(), start + 16));
                    TokenBatch tb = TokenBatch.of(idx.stream().map(ids::get).toArray(long[][]::new));
                    try (Tensor idT = backend.upload(tb.ids(), tb.batch(), tb.seq());
                         Tensor lenT = backend.upload(tb.lengths(), tb.batch())) {
                        float[] pooled = Vectors.meanPool(enc.forward(idT, lenT).toFloatArray(), tb.lengths(), tb.seq(), d);
                        for (int r = 0; r < tb.batch(); r++) {
                            double norm = 0;
                            for (int j = 0; j < d; j++) {
                                norm += (double) pooled[r * d + j] * pooled[r * d + j];
                            }
                            for (int j = 0; j < d; j++) {
                                emb[idx.get(r) * d + j] = (float) (pooled[r * d + j] / Math.sqrt(norm));
                            }
                        }
                    }
                }
            }
        }
        int[] predicted = head.argmax(emb, texts.size());
        int correct = 0;
        for (int i = 0; i < predicted.length; i++) {
            correct += head.labels().get(predicted[i]).equals(labels.get(i)) ? 1 : 0;
        }
        double accuracy = (double) correct / predicted.length;
        System.out.printf("spam/ham held-out sample: float %.4f, int8 %.4f (%d/%d)%n", floatAccuracy, accuracy, correct,
                predicted.length);
        assertThat(accuracy).isGreaterThanOrEqualTo(floatAccuracy - MAX_DROP);
    }

    private static byte[] resource(String name) throws Exception {
        try (InputStream in = Int8SpamHamTest.class.getClassLoader().getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }
}
