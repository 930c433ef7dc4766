package io.inflow.operators.embed;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.encoder.TextEncoderConfig;
import io.inflow.gpu.head.HeadConfig;
import io.inflow.gpu.head.HeadType;
import io.inflow.gpu.pooling.PoolingConfig;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.text.TextModel;

import java.io.Serializable;
import java.nio.file.Path;

/**
 * What encoder a job runs: serializable, so it travels in the job graph; the encoder itself is built on the task
 * manager from it. Two operators with equal specs share one encoder per process ({@link SharedEncoders}).
 *
 * <p>{@code new EncoderSpec(TextModel.ALL_MINILM_L6_V2, PoolingMode.MEAN, true, HeadType.NONE, null, false, null, BackendKind.AUTO, 2, 256, CudaBackendConfig.defaults())}
 *
 * @param model weights and tokenizer
 * @param pooling how token states become one vector (the model's own by default)
 * @param normalize L2-normalise the final embedding (cosine = dot product downstream)
 * @param head projection head type; {@link HeadType#NONE} for none
 * @param headWeights safetensors file of the head (null with NONE)
 * @param headPerToken apply the head per token before pooling (ColBERT style) instead of after pooling
 * @param adapterWeights safetensors file of a low-rank residual adapter, or null
 * @param backend compute backend
 * @param threads CPU kernel threads
 * @param maxSequenceLength longest input in tokens
 * @param cuda the CUDA backend's settings ({@link CudaOptions}), used where the backend is CUDA
 */
public record EncoderSpec(TextModel model, PoolingMode pooling, boolean normalize, HeadType head, String headWeights,
        boolean headPerToken, String adapterWeights, BackendKind backend, int threads, int maxSequenceLength,
        CudaBackendConfig cuda) implements Serializable {

    /** The model's own pooling, L2-normalised, no head, CPU backend (see {@code inflow.compute.backend}). */
    public static EncoderSpec defaults(TextModel model, int threads, int maxSequenceLength) {
        return new EncoderSpec(model, model.defaultPooling(), true, HeadType.NONE, null, false, null,
                BackendKind.CPU, threads, maxSequenceLength, CudaBackendConfig.defaults());
    }

    /** The encoder configuration this spec stands for. */
    public TextEncoderConfig toConfig() {
        TextEncoderConfig.Builder b = TextEncoderConfig.builder()
                .onnxResource(model.onnxResource())
                .modelName(model.modelName())
                .pooling(PoolingConfig.of(pooling))
                .normalize(normalize)
                .backend(backend)
                .cuda(cuda)
                .threads(threads)
                .maxSequenceLength(maxSequenceLength)
                .headPerToken(headPerToken);
        if (head != HeadType.NONE) {
            b.head(HeadConfig.of(head, Path.of(headWeights)));
        }
        if (adapterWeights != null) {
            b.adapter(Path.of(adapterWeights));
        }
        return b.build();
    }

    /**
     * The version stamped on enriched events: the weights' origin plus everything that changes the vectors, e.g.
     * {@code langchain4j-1.20.0-beta30/mean/l2}.
     */
    public String version() {
        StringBuilder v = new StringBuilder(TextModel.WEIGHTS_VERSION).append('/')
                .append(pooling.name().toLowerCase());
        if (head != HeadType.NONE) {
            v.append('/').append(head.name().toLowerCase()).append(headPerToken ? "-per-token" : "").append(':')
                    .append(Path.of(headWeights).getFileName());
        }
        if (adapterWeights != null) {
            v.append("/adapter:").append(Path.of(adapterWeights).getFileName());
        }
        if (normalize) {
            v.append("/l2");
        }
        return v.toString();
    }
}
