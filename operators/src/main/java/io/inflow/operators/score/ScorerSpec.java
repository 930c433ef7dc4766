package io.inflow.operators.score;

import io.inflow.gpu.head.ClassifierHead;
import io.inflow.gpu.head.ScorerConfig;
import io.inflow.schemas.ScorerRef;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The scorer a text job runs after embedding (serializable; it travels in the job graph): a scorer directory
 * (bundled, e.g. {@code spam-ham-minilm}, or a directory on disk with {@code scorer.json} and {@code head.safetensors},
 * see {@link ClassifierHead}), the precision its encoder runs at, and where an integer model comes from.
 *
 * <pre>{@code
 * ScorerSpec s = new ScorerSpec("spam-ham-minilm", ScorerRef.INT8, null, "/tmp/inflow-quantized", 0.85, 2);
 * ClassifierHead head = s.loadHead();      // what scorer.json says: encoder, pooling, labels, ...
 * }</pre>
 *
 * @param scorer         a bundled scorer name ({@code models/<name>} on the classpath) or a directory path
 * @param precision      {@link ScorerRef#FLOAT32} (the float encoder), {@link ScorerRef#INT8} (integer-only) or
 *                       {@link ScorerRef#MIXED} (INT4/INT8 layers)
 * @param quantizedModel a {@code model.safetensors} of {@code ./inflow quantize}, or null to quantize the scorer's
 *                       encoder on the bundled calibration texts into {@code cacheDir} (int8 / mixed only)
 * @param cacheDir       where quantized models made at start are kept, one per machine and setting
 * @param sizeBudget     mixed only: the layers' weights at most this share of their INT8 size
 * @param threads        CPU threads of the integer encoder
 */
public record ScorerSpec(String scorer, String precision, String quantizedModel, String cacheDir, double sizeBudget,
                         int threads) implements Serializable {

    private static final long serialVersionUID = 1L;
    /** Where bundled scorers live on the classpath. */
    public static final String BUNDLED_ROOT = "models/";

    public ScorerSpec {
        if (!ScorerRef.PRECISIONS.contains(precision)) {
            throw new IllegalArgumentException("scorer precision is '" + precision + "': use float32, int8 or mixed");
        }
        if (ScorerRef.FLOAT32.equals(precision) && quantizedModel != null) {
            throw new IllegalArgumentException("a quantized model file is given but the precision is float32: set"
                    + " the precision to int8 (or mixed) or drop the file");
        }
    }

    /** Whether {@link #scorer} names a scorer bundled on the classpath. */
    public boolean bundled() {
        return !scorer.contains("/") && !scorer.contains("\\")
                && ScorerSpec.class.getClassLoader().getResource(BUNDLED_ROOT + scorer + "/"
                        + ClassifierHead.SCORER_FILE) != null;
    }

    /** Loads the head (and its {@link ScorerConfig}); fails naming what is missing. */
    public ClassifierHead loadHead() throws IOException {
        if (bundled()) {
            return ClassifierHead.fromResource(BUNDLED_ROOT + scorer);
        }
        Path dir = Path.of(scorer);
        if (!Files.isDirectory(dir)) {
            throw new IOException("'" + scorer + "' is neither a bundled scorer (spam-ham-minilm) nor a directory");
        }
        return ClassifierHead.fromDirectory(dir);
    }

    /** Whether the encoder runs the integer path. */
    public boolean integer() {
        return !ScorerRef.FLOAT32.equals(precision);
    }

    /** The share of the INT8 layer size the integer model may take: 1 at INT8, {@link #sizeBudget} when mixed. */
    public double effectiveBudget() {
        return ScorerRef.MIXED.equals(precision) ? sizeBudget : 1.0;
    }
}
