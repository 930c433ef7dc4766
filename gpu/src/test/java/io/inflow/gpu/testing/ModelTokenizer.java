package io.inflow.gpu.testing;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * DJL's Hugging Face tokenizer loaded from a {@code tokenizer.json} inside a model jar (copied to a temp
 * file), truncating to {@code maxLength} tokens, no padding (batches pad themselves).
 *
 * <p>{@code try (ModelTokenizer t = ModelTokenizer.fromResource("all-minilm-l6-v2-tokenizer.json", 256)) { ... }}
 */
public final class ModelTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;

    private ModelTokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    public static ModelTokenizer fromResource(String resource, int maxLength) throws IOException {
        Path tmp = Files.createTempFile("tokenizer", ".json");
        try (InputStream in = ModelTokenizer.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("tokenizer resource not found: " + resource);
            }
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            return new ModelTokenizer(HuggingFaceTokenizer.newInstance(tmp, Map.of(
                    "truncation", "true", "maxLength", Integer.toString(maxLength), "padding", "false")));
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public long[] ids(String text) {
        Encoding e = tokenizer.encode(text);
        return e.getIds();
    }

    public TokenBatch batch(List<String> texts) {
        long[][] rows = new long[texts.size()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = ids(texts.get(i));
        }
        return TokenBatch.of(rows);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
