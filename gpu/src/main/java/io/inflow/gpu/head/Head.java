package io.inflow.gpu.head;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.tensor.Tensor;

/**
 * A projection applied to rows of embeddings ({@code [n, inDim] -> [n, outDim]}): after pooling (one row
 * per input) or per token (one row per position). Owns its weights on the backend.
 *
 * <pre>{@code
 * try (Head head = Heads.load(HeadConfig.linear(path), backend, 384)) {
 *     head.apply(backend, pooled, projected, workspace);
 * }
 * }</pre>
 */
public interface Head extends AutoCloseable {
    int inDim();

    int outDim();

    /** {@code out[n, outDim] = head(x[n, inDim])}; {@code out} must not alias {@code x}. */
    void apply(Backend backend, Tensor x, Tensor out, Workspace ws);

    @Override
    void close();
}
