package io.inflow.gpu.testing;

import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A BERT encoder with seeded random weights, written as a Hugging Face directory (config.json + model.safetensors):
 * the MiniLM shape where the real weights cannot travel (the GPU device kit), or a small shape for the emulated
 * device. Weights ~ N(0, 0.02) as BERT's initialisation, LayerNorm gain 1 and bias 0, so activations keep
 * realistic scales through the layers; token ids are random in the vocabulary.
 *
 * <pre>{@code
 * Path dir = RandomBert.MINILM.write(tmp.resolve("bert"), 7);
 * TextEncoder enc = TextEncoder.create(TextEncoderConfig.builder().safetensors(dir).build());
 * TokenBatch batch = RandomBert.MINILM.tokens(new Random(7), new int[] {1, 17, 128});
 * }</pre>
 *
 * @param layers transformer layers
 * @param hidden model width
 * @param heads attention heads
 * @param intermediate feed-forward width
 * @param vocab vocabulary size
 * @param maxPositions longest sequence
 */
public record RandomBert(int layers, int hidden, int heads, int intermediate, int vocab, int maxPositions) {
    /** all-MiniLM-L6-v2's shape. */
    public static final RandomBert MINILM = new RandomBert(6, 384, 12, 1536, 30522, 512);

    /** Writes {@code dir/config.json} and {@code dir/model.safetensors}; returns {@code dir}. */
    public Path write(Path dir, long seed) throws IOException {
        Random rnd = new Random(seed);
        List<WeightArray> w = new ArrayList<>();
        w.add(normal("embeddings.word_embeddings.weight", rnd, vocab, hidden));
        w.add(normal("embeddings.position_embeddings.weight", rnd, maxPositions, hidden));
        w.add(normal("embeddings.token_type_embeddings.weight", rnd, 2, hidden));
        w.add(constant("embeddings.LayerNorm.weight", 1, hidden));
        w.add(constant("embeddings.LayerNorm.bias", 0, hidden));
        for (int i = 0; i < layers; i++) {
            String p = "encoder.layer." + i + ".";
            for (String m : List.of("attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense")) {
                w.add(normal(p + m + ".weight", rnd, hidden, hidden));
                w.add(normal(p + m + ".bias", rnd, hidden));
            }
            w.add(constant(p + "attention.output.LayerNorm.weight", 1, hidden));
            w.add(constant(p + "attention.output.LayerNorm.bias", 0, hidden));
            w.add(normal(p + "intermediate.dense.weight", rnd, intermediate, hidden));
            w.add(normal(p + "intermediate.dense.bias", rnd, intermediate));
            w.add(normal(p + "output.dense.weight", rnd, hidden, intermediate));
            w.add(normal(p + "output.dense.bias", rnd, hidden));
            w.add(constant(p + "output.LayerNorm.weight", 1, hidden));
            w.add(constant(p + "output.LayerNorm.bias", 0, hidden));
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), "{\n"
                + "  \"architectures\": [\"BertModel\"], \"model_type\": \"bert\", \"hidden_act\": \"gelu\",\n"
                + "  \"vocab_size\": " + vocab + ", \"hidden_size\": " + hidden + ",\n"
                + "  \"num_hidden_layers\": " + layers + ", \"num_attention_heads\": " + heads + ",\n"
                + "  \"intermediate_size\": " + intermediate + ", \"max_position_embeddings\": " + maxPositions + ",\n"
                + "  \"type_vocab_size\": 2, \"layer_norm_eps\": 1e-12\n}\n");
        SafetensorsWriter.writeF32(dir.resolve("model.safetensors"), w);
        return dir;
    }

    /** A batch of random token sequences of the given lengths ([CLS] first, [SEP] last, padded with 0). */
    public TokenBatch tokens(Random rnd, int[] lengths) {
        long[][] rows = new long[lengths.length][];
        for (int r = 0; r < lengths.length; r++) {
            rows[r] = new long[lengths[r]];
            for (int t = 0; t < lengths[r]; t++) {
                rows[r][t] = t == 0 ? 101 % vocab : t == lengths[r] - 1 ? 102 % vocab : 1000 + rnd.nextInt(vocab - 1000);
            }
        }
        return TokenBatch.of(rows);
    }

    private static WeightArray normal(String name, Random rnd, int... shape) {
        float[] v = new float[count(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextGaussian() * 0.02);
        }
        return new WeightArray(name, shape, v);
    }

    private static WeightArray constant(String name, float value, int... shape) {
        float[] v = new float[count(shape)];
        java.util.Arrays.fill(v, value);
        return new WeightArray(name, shape, v);
    }

    private static int count(int[] shape) {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        return n;
    }
}
