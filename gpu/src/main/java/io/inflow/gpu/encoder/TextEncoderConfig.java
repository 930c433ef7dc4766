package io.inflow.gpu.encoder;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.head.HeadConfig;
import io.inflow.gpu.head.HeadType;
import io.inflow.gpu.pooling.PoolingConfig;
import io.inflow.gpu.pooling.PoolingMode;
import java.nio.file.Path;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Everything a {@link TextEncoder} is built from, with defaults and a {@link Builder#build()}-time sanity check.
 *
 * <pre>{@code
 * TextEncoderConfig config = TextEncoderConfig.builder()
 *         .model(ModelSource.onnxResource("all-minilm-l6-v2.onnx"))
 *         .pooling(PoolingConfig.mean())
 *         .normalize(true)
 *         .backend(BackendKind.AUTO).threads(2)
 *         .build();
 * }</pre>
 *
 * @param model             weights (required)
 * @param modelName         name reported by {@link TextEncoder#modelName()} (default: from the source)
 * @param pooling           pooling mode (default mean)
 * @param head              projection head (default none)
 * @param headPerToken      apply the head to every token before pooling instead of after (default false)
 * @param adapter           optional low-rank residual adapter on the pooled embedding (null: none)
 * @param normalize         L2-normalise the final embedding (default false)
 * @param backend           compute backend (default AUTO)
 * @param threads           CPU kernel threads (default: available processors); more threads help only up to the cores
 * @param maxSequenceLength longest accepted input (default 256, at most the model's position embeddings)
 * @param allocator         parent Arrow allocator for backend memory (null: the backend's own)
 * @param cuda              the CUDA backend's settings where CUDA is chosen (default {@link CudaBackendConfig#defaults()})
 */
public record TextEncoderConfig(ModelSource model, String modelName, PoolingConfig pooling, HeadConfig head,
                                boolean headPerToken, HeadConfig adapter, boolean normalize, BackendKind backend,
                                int threads, int maxSequenceLength, BufferAllocator allocator,
                                CudaBackendConfig cuda) {

    public static Builder builder() {
        return new Builder();
    }

    /** Fluent builder with defaults. */
    public static final class Builder {
        private ModelSource model;
        private String modelName;
        private PoolingConfig pooling = PoolingConfig.mean();
        private HeadConfig head = HeadConfig.none();
        private boolean headPerToken;
        private HeadConfig adapter;
        private boolean normalize;
        private BackendKind backend = BackendKind.AUTO;
        private int threads = Runtime.getRuntime().availableProcessors();
        private int maxSequenceLength = 256;
        private BufferAllocator allocator;
        private CudaBackendConfig cuda = CudaBackendConfig.defaults();

        public Builder model(ModelSource model) {
            this.model = model;
            return this;
        }

        public Builder onnxResource(String resource) {
            return model(ModelSource.onnxResource(resource));
        }

        public Builder safetensors(Path dir) {
            return model(ModelSource.safetensors(dir));
        }

        public Builder modelName(String modelName) {
            this.modelName = modelName;
            return this;
        }

        public Builder pooling(PoolingConfig pooling) {
            this.pooling = pooling;
            return this;
        }

        public Builder head(HeadConfig head) {
            this.head = head;
            return this;
        }

        public Builder headPerToken(boolean headPerToken) {
            this.headPerToken = headPerToken;
            return this;
        }

        /** A low-rank adapter file ({@code adapter.up}, {@code adapter.down}); null for none. */
        public Builder adapter(Path weights) {
            this.adapter = weights == null ? null : HeadConfig.of(HeadType.LOW_RANK_ADAPTER, weights);
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

        public Builder maxSequenceLength(int maxSequenceLength) {
            this.maxSequenceLength = maxSequenceLength;
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

        public TextEncoderConfig build() {
            if (model == null) {
                throw new IllegalArgumentException("a model source is required (onnxResource or safetensors)");
            }
            if (pooling == null || head == null || backend == null || cuda == null) {
                throw new IllegalArgumentException("pooling, head, backend and cuda must not be null");
            }
            if (threads < 1 || threads > 256) {
                throw new IllegalArgumentException("threads must be in [1, 256] (requested " + threads + ")");
            }
            if (maxSequenceLength < 1) {
                throw new IllegalArgumentException("maxSequenceLength must be >= 1 (requested " + maxSequenceLength + ")");
            }
            if (head.type() == HeadType.LOW_RANK_ADAPTER) {
                throw new IllegalArgumentException("the low-rank adapter is configured with adapter(path), not head()");
            }
            if (headPerToken && head.isNone()) {
                throw new IllegalArgumentException("headPerToken needs a head");
            }
            if (headPerToken && pooling.mode() == PoolingMode.MULTI_LAYER_MEAN) {
                throw new IllegalArgumentException("a per-token head cannot be combined with multi-layer pooling");
            }
            return new TextEncoderConfig(model, modelName == null ? model.defaultName() : modelName, pooling, head,
                    headPerToken, adapter, normalize, backend, threads, maxSequenceLength, allocator, cuda);
        }
    }
}
