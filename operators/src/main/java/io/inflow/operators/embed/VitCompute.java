package io.inflow.operators.embed;

import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.encoder.vit.VitEncoder;
import io.inflow.gpu.resources.ProcessResources;
import io.inflow.gpu.encoder.vit.VitOutput;
import io.inflow.schemas.ModelRef;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Embeds and classifies a batch of decoded images with a vision transformer: the batch's Arrow buffers (8-bit
 * pixels of any size) go to the encoder's backend, which resizes, crops and normalises them
 * ({@code ImageOps.preprocessImages}: a CUDA kernel on the GPU) and runs the ViT. One encoder per spec per process
 * ({@link SharedEncoders}).
 *
 * <p>Lifecycle as {@link TextBatchCompute}: {@link #open()} on the compute thread, {@link #compute} per batch from that
 * thread, {@link #close()}.
 *
 * <pre>{@code
 * VitCompute vit = new VitCompute(ImageEncoderSpec.bundled(BackendKind.CPU, 2));
 * vit.open();
 * VitOutput out = vit.compute(batch);     // embeddings [rows, 128], class probabilities [rows, 10]
 * }</pre>
 */
public final class VitCompute implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final String WEIGHTS = "model.safetensors";

    private final ImageEncoderSpec spec;
    private transient ProcessResources.Lease<SharedModel<VitEncoder>> lease;
    private transient SharedModel<VitEncoder> shared;
    private transient VitEncoder encoder;
    private transient ModelRef model;

    public VitCompute(ImageEncoderSpec spec) {
        this.spec = spec;
    }

    public ImageEncoderSpec spec() {
        return spec;
    }

    /** Loads (or shares) the encoder. */
    public void open() throws Exception {
        lease = SharedEncoders.acquire(spec, () -> VitEncoder.create(spec.toConfig()));
        shared = lease.get();
        encoder = shared.model();
        model = new ModelRef(spec.modelName(), version(spec, encoder));
    }

    /**
     * The version stamped on enriched events: the first 12 hex digits of the weights file's SHA-256 (so retrained
     * weights under the same name are told apart), the pooling, and {@code l2} when normalised, e.g.
     * {@code sha256:1a2b3c4d5e6f/cls/l2}.
     */
    static String version(ImageEncoderSpec spec, VitEncoder encoder) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        try (InputStream in = spec.modelDir() != null
                ? Files.newInputStream(Path.of(spec.modelDir(), WEIGHTS))
                : VitCompute.class.getClassLoader().getResourceAsStream(spec.modelResource() + "/" + WEIGHTS)) {
            if (in == null) {
                throw new IOException("model resource " + spec.modelResource() + "/" + WEIGHTS + " not found");
            }
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
        }
        String v = "sha256:" + HexFormat.of().formatHex(sha.digest()).substring(0, 12) + "/"
                + encoder.pooling().name().toLowerCase(Locale.ROOT);
        return spec.normalize() ? v + "/l2" : v;
    }

    /** The model stamped on every enriched event, e.g. {@code vit-fashion-mnist / sha256:1a2b3c4d5e6f/cls/l2}. */
    public ModelRef model() {
        return model;
    }

    /** The encoder backend's name without its details ({@code cpu-fast}, {@code cuda}). */
    public String backend() {
        return encoder.backendName().replaceFirst("\\(.*\\)$", "");
    }

    /** Patch tokens per image (class token included): the work unit of the batch metrics. */
    public int tokensPerImage() {
        return encoder.vitConfig().tokens();
    }

    /** Whether a batch of another slot is already waiting for the shared encoder. */
    public boolean backlogged() {
        return shared.backlogged();
    }

    /** Preprocesses and encodes the batch; valid only during the call. */
    public VitOutput compute(DecodedImageBatch batch) throws Exception {
        return shared.call(enc -> enc.encode(batch));
    }

    public void close() throws Exception {
        if (encoder != null) {
            encoder = null;
            shared = null;
            lease.close();
        }
    }
}
