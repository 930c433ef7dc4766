package io.inflow.gpu.head;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * The per-token projection heads for MaxSim rerank that ship in the jar ({@code models/colbert-heads/<model>/}),
 * trained by {@code gpu/scripts/train-colbert-heads.py} (the directory's README says how). A variant is a head type
 * with or without a residual: {@code linear}, {@code linear-residual}, {@code ffn}, {@code ffn-residual}, {@code glu},
 * {@code glu-residual}.
 *
 * <pre>{@code
 * HeadConfig head = BundledHeads.config("all-minilm-l6-v2", "ffn-residual");
 * }</pre>
 */
public final class BundledHeads {

    /** The variants trained for each bundled model. */
    public static final List<String> VARIANTS = List.of("linear", "linear-residual", "ffn", "ffn-residual", "glu",
            "glu-residual");
    /** The models heads were trained for. */
    public static final List<String> MODELS = List.of("all-minilm-l6-v2");

    private BundledHeads() {
    }

    /** The head type of a variant name ({@code ffn-residual} is FFN). */
    public static HeadType type(String variant) {
        check(variant);
        return HeadType.valueOf(variant.replace("-residual", "").toUpperCase(Locale.ROOT));
    }

    /** Whether a variant adds its input back. */
    public static boolean residual(String variant) {
        check(variant);
        return variant.endsWith("-residual");
    }

    /** The classpath resource of a bundled head. */
    public static String resource(String model, String variant) {
        check(variant);
        if (!MODELS.contains(model)) {
            throw new IllegalArgumentException("no bundled heads for model '" + model + "'; heads exist for "
                    + MODELS + " (or give a head file of your own)");
        }
        return "models/colbert-heads/" + model + "/" + variant + ".safetensors";
    }

    /** The config of a bundled head, its weights copied from the jar to a temporary file (deleted at exit). */
    public static HeadConfig config(String model, String variant) throws IOException {
        String resource = resource(model, variant);
        Path tmp = Files.createTempFile("inflow-head-" + variant + "-", ".safetensors");
        tmp.toFile().deleteOnExit();
        try (InputStream in = BundledHeads.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("bundled head " + resource + " is missing from the classpath");
            }
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        return HeadConfig.of(type(variant), tmp).withResidual(residual(variant));
    }

    /** Parses a variant name; the error lists the choices. */
    public static String check(String variant) {
        if (!VARIANTS.contains(variant)) {
            throw new IllegalArgumentException("unknown head variant '" + variant + "'; use one of " + VARIANTS);
        }
        return variant;
    }
}
