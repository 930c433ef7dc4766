package io.inflow.gpu.head;

import io.inflow.gpu.backend.GluGate;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bundled ColBERT projection heads (per-token, 384 -> 384), trained by {@code gpu/scripts/train-colbert-heads.py}
 * on WordNet lemma -> gloss pairs; the recipe is in {@code models/colbert-heads/all-minilm-l6-v2/README.md}. Each is
 * the classpath resource {@code models/colbert-heads/<model>/<variant>.safetensors} (float16) plus its type and
 * residual flag; {@link #config} gives the {@link HeadConfig} for {@link Heads#load} or
 * {@code TextEncoder.loadHead}.
 *
 * <pre>{@code
 * HeadConfig c = ColbertHead.FFN_RESIDUAL.config("all-minilm-l6-v2");
 * try (Head head = encoder.loadHead(c)) {
 *     TextEncoder.TokenEncoding e = encoder.encodeWithTokens(ids, lengths, head);
 * }
 * }</pre>
 */
public enum ColbertHead {
    LINEAR(HeadType.LINEAR, false),
    LINEAR_RESIDUAL(HeadType.LINEAR, true),
    FFN(HeadType.FFN, false),
    FFN_RESIDUAL(HeadType.FFN, true),
    GLU(HeadType.GLU, false),
    GLU_RESIDUAL(HeadType.GLU, true);

    /** The model the bundled heads were trained for. */
    public static final String MINILM = "all-minilm-l6-v2";

    private static final Map<String, Path> EXTRACTED = new ConcurrentHashMap<>();

    private final HeadType type;
    private final boolean residual;

    ColbertHead(HeadType type, boolean residual) {
        this.type = type;
        this.residual = residual;
    }

    public HeadType type() {
        return type;
    }

    public boolean residual() {
        return residual;
    }

    /** {@code linear}, {@code linear-residual}, {@code ffn}, ... (the file's base name). */
    public String variant() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** {@code models/colbert-heads/<model>/<variant>.safetensors}. */
    public String resource(String model) {
        return "models/colbert-heads/" + model + "/" + variant() + ".safetensors";
    }

    /**
     * The head's configuration (GLU gate GELU, residual as trained); its weights file is the resource itself when the
     * classpath holds it as a file, else a copy in a temporary file (made once per JVM, deleted on exit).
     */
    public HeadConfig config(String model) throws IOException {
        return new HeadConfig(type, path(resource(model)), GluGate.GELU, residual);
    }

    private static Path path(String resource) throws IOException {
        Path cached = EXTRACTED.get(resource);
        if (cached != null) {
            return cached;
        }
        URL url = ColbertHead.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IOException("no bundled head " + resource + " on the classpath");
        }
        Path p;
        if ("file".equals(url.getProtocol())) {
            try {
                p = Path.of(url.toURI());
            } catch (URISyntaxException e) {
                throw new IOException(e);
            }
        } else {
            p = Files.createTempFile("colbert-head-", ".safetensors");
            p.toFile().deleteOnExit();
            try (InputStream in = url.openStream()) {
                Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        EXTRACTED.put(resource, p);
        return p;
    }
}
