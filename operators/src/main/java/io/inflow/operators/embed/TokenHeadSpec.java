package io.inflow.operators.embed;

import io.inflow.gpu.head.BundledHeads;
import io.inflow.gpu.head.HeadConfig;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * The projection head applied to every token for MaxSim rerank: a bundled variant ({@link BundledHeads}), a variant's
 * architecture with weights from a file of the user's, or {@code none} (the model's raw last layer).
 *
 * <pre>{@code
 * TokenHeadSpec.of("ffn-residual", null);                       // bundled, trained for the job's model
 * TokenHeadSpec.of("glu", "/models/my-glu.safetensors");         // a GLU head of one's own
 * TokenHeadSpec.of("none", null);
 * }</pre>
 *
 * @param variant {@code none} or one of {@link BundledHeads#VARIANTS}
 * @param file safetensors weights of a head of one's own, or null for the bundled one
 */
public record TokenHeadSpec(String variant, String file) implements Serializable {

    public static final String NONE = "none";

    public TokenHeadSpec {
        if (!NONE.equals(variant)) {
            BundledHeads.check(variant);
        } else if (file != null) {
            throw new IllegalArgumentException("a head file needs a head variant (its architecture), not none");
        }
    }

    public static TokenHeadSpec of(String variant, String file) {
        return new TokenHeadSpec(variant, file);
    }

    public boolean isNone() {
        return NONE.equals(variant);
    }

    /** The head's config for {@code model}'s tokens; null for {@code none}. */
    public HeadConfig toHeadConfig(String model) throws IOException {
        if (isNone()) {
            return null;
        }
        if (file == null) {
            return BundledHeads.config(model, variant);
        }
        return HeadConfig.of(BundledHeads.type(variant), Path.of(file)).withResidual(BundledHeads.residual(variant));
    }

    /** How the head is named in versions and logs: {@code ffn-residual}, {@code glu:my-glu.safetensors}, {@code none}. */
    public String describe() {
        return file == null ? variant : variant + ":" + Path.of(file).getFileName();
    }
}
