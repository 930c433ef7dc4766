package io.inflow.operators.embed;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.encoder.vit.VitEncoderConfig;

import java.io.Serializable;
import java.nio.file.Path;

/**
 * What image encoder a job runs: serializable, so it travels in the job graph; the {@code VitEncoder} is built on
 * the task manager from it. Two operators with equal specs share one encoder per process ({@link SharedEncoders}).
 *
 * <p>{@code new ImageEncoderSpec(null, ImageEncoderSpec.BUNDLED_MODEL, "vit-fashion-mnist", true, BackendKind.CPU, 2,
 *         CudaBackendConfig.defaults())}
 *
 * @param modelDir a directory with the Hugging Face {@code config.json} and {@code model.safetensors} (ViT or
 *     CLIP-vision layout), or null to use {@code modelResource}
 * @param modelResource a classpath directory with the same files (used when {@code modelDir} is null)
 * @param modelName the name stamped on enriched events
 * @param normalize L2-normalise the embedding (cosine = dot product downstream)
 * @param backend compute backend
 * @param threads CPU kernel threads
 * @param cuda the CUDA backend's settings ({@link CudaOptions}), used where the backend is CUDA
 */
public record ImageEncoderSpec(String modelDir, String modelResource, String modelName, boolean normalize,
                               BackendKind backend, int threads, CudaBackendConfig cuda) implements Serializable {

    /** The model trained by the project on Fashion-MNIST, bundled in the gpu module. */
    public static final String BUNDLED_MODEL = "models/vit-fashion-mnist";
    /** Its name on enriched events. */
    public static final String BUNDLED_MODEL_NAME = "vit-fashion-mnist";

    public ImageEncoderSpec {
        if (modelDir == null && modelResource == null) {
            throw new IllegalArgumentException("set a model directory or a model resource");
        }
        if (modelName == null || modelName.isBlank()) {
            throw new IllegalArgumentException("modelName must not be empty");
        }
        if (cuda == null) {
            throw new IllegalArgumentException("cuda settings must not be null (CudaBackendConfig.defaults())");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1 (was " + threads + ")");
        }
    }

    /** The bundled Fashion-MNIST ViT, L2-normalised, on the given backend. */
    public static ImageEncoderSpec bundled(BackendKind backend, int threads) {
        return new ImageEncoderSpec(null, BUNDLED_MODEL, BUNDLED_MODEL_NAME, true, backend, threads,
                CudaBackendConfig.defaults());
    }

    /**
     * The width of the embeddings the encoder makes (its {@code hidden_size}; the spec sets no head), read from the
     * model's {@code config.json} without loading the weights: the image index is sized from it at job start.
     */
    public int dimension() throws java.io.IOException {
        if (modelDir != null) {
            return io.inflow.gpu.encoder.vit.VitConfig.read(Path.of(modelDir, "config.json")).hidden();
        }
        String resource = modelResource + "/config.json";
        try (java.io.InputStream in = ImageEncoderSpec.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new java.io.IOException("model resource " + resource + " not found on the classpath");
            }
            return io.inflow.gpu.encoder.vit.VitConfig.read(in, resource).hidden();
        }
    }

    /** The encoder configuration this spec stands for. */
    public VitEncoderConfig toConfig() {
        VitEncoderConfig.Builder b = VitEncoderConfig.builder().modelName(modelName).normalize(normalize)
                .backend(backend).threads(threads).cuda(cuda);
        if (modelDir != null) {
            b.modelDir(Path.of(modelDir));
        } else {
            b.modelResource(modelResource);
        }
        return b.build();
    }
}
