package io.inflow.gpu.encoder.vit;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.head.HeadConfig;
import io.inflow.gpu.head.HeadType;
import io.inflow.gpu.pooling.PoolingMode;
import java.nio.file.Path;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Everything a {@link VitEncoder} is built from, with defaults and a {@link Builder#build()}-time sanity check.
 * The model is a Hugging Face directory ({@code config.json} + {@code *.safetensors}) on disk or on the classpath.
 *
 * <pre>{@code
 * VitEncoderConfig config = VitEncoderConfig.builder()
 *         .modelResource("models/vit-fashion-mnist")
 *         .pooling(PoolingMode.CLS).normalize(true)
 *         .backend(BackendKind.AUTO).threads(2)
 *         .build();
 * }</pre>
 *
 * @param modelDir      model directory on disk (exactly one of modelDir and modelResource)
 * @param modelResource model directory on the classpath, e.g. {@code models/vit-fashion-mnist}
 * @param modelName     name reported by {@link VitEncoder#modelName()} (default: the directory name)
 * @param pooling       CLS or MEAN over the final-LayerNorm tokens (default: the config's {@code pooling}, else CLS)
 * @param head          projection head on the pooled embedding (default none)
 * @param normalize     L2-normalise the final embedding (default false); logits are unaffected
 * @param backend       compute backend (default AUTO)
 * @param threads       CPU kernel threads (default: available processors)
 * @param allocator     parent Arrow allocator for backend memory (null: the backend's own)
 * @param cuda          the CUDA backend's settings where CUDA is chosen (default {@link CudaBackendConfig#defaults()})
 */
public record VitEncoderConfig(Path modelDir, String modelResource, String modelName, PoolingMode pooling,
                               HeadConfig head, boolean normalize, BackendKind backend, int threads,
                               BufferAllocator allocator, CudaBackendConfig cuda) {

    public static Builder builder() {
        return new Builder();
    }

    /** Fluent builder with defaults. */
    public static final class Builder {
        private Path modelDir;
        private String modelResource;
        private String modelName;
        private PoolingMode pooling;
        private HeadConfig head = HeadConfig.none();
        private boolean normalize;
        private BackendKind backend = BackendKind.AUTO;
        private int threads = Runtime.getRuntime().availableProcessors();
        private BufferAllocator allocator;
        private CudaBackendConfig cuda = CudaBackendConfig.defaults();

        public Builder modelDir(Path dir) {
            this.modelDir = dir;
            return this;
        }

        public Builder modelResource(String resourceDir) {
            this.modelResource = resourceDir;
            return this;
        }

        public Builder modelName(String modelName) {
            this.modelName = modelName;
            return this;
        }

        public Builder pooling(PoolingMode pooling) {
            this.pooling = pooling;
            return this;
        }

        public Builder head(HeadConfig head) {
            this.head = head;
            return this;
        }

        public Builder normalize(boolean normalize) {
            this.normalize = normalize;
            return this;
        }

        public Builder backend(BackendKind backend) {
            this.backend = backend;
            return this;
        }

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public Builder allocator(BufferAllocator allocator) {
            this.allocator = allocator;
            return this;
        }

        public Builder cuda(CudaBackendConfig cuda) {
            this.cuda = cuda;
            return this;
        }

        public VitEncoderConfig build() {
            if ((modelDir == null) == (modelResource == null || modelResource.isBlank())) {
                throw new IllegalArgumentException("exactly one of modelDir and modelResource is required");
            }
            if (pooling != null && pooling != PoolingMode.CLS && pooling != PoolingMode.MEAN) {
                throw new IllegalArgumentException("a ViT pools with CLS or MEAN (requested " + pooling + ")");
            }
            if (head == null || backend == null || cuda == null) {
                throw new IllegalArgumentException("head, backend and cuda must not be null");
            }
            if (head.type() == HeadType.LOW_RANK_ADAPTER) {
                throw new IllegalArgumentException("a low-rank adapter is not a projection head");
            }
            if (threads < 1 || threads > 256) {
                throw new IllegalArgumentException("threads must be in [1, 256] (requested " + threads + ")");
            }
            String resource = modelResource == null ? null : modelResource.replaceAll("/+$", "");
            String name = modelName != null ? modelName
                    : modelDir != null ? modelDir.getFileName().toString()
                    : resource.substring(resource.lastIndexOf('/') + 1);
            return new VitEncoderConfig(modelDir, resource, name, pooling, head, normalize, backend, threads, allocator, cuda);
        }
    }
}
