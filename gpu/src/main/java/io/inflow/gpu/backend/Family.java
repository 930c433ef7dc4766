package io.inflow.gpu.backend;

/**
 * The capability families a {@link Backend} may offer, each a separate interface of kernels. A backend answers
 * {@link Backend#supports(Family)} per family; asking a backend for a family it lacks throws
 * {@link UnsupportedFamilyException} naming both, so a caller fails at start rather than mid-batch.
 *
 * <pre>{@code
 * if (backend.supports(Family.IMAGE)) {
 *     backend.image().patchify(pixels, 4, patches);
 * }
 * backend.require(Family.TRANSFORMER);   // or fail now, naming the backend and the family
 * }</pre>
 */
public enum Family {
    /** {@link TransformerOps}: GEMMs, normalisation, activations, embedding, attention, pooling. */
    TRANSFORMER,
    /** {@link ImageOps}: image preprocessing and the ViT patch embedding's im2col. */
    IMAGE,
    /** {@code RetrievalOps}: exact top-k over vector chunks (reference and fast CPU, CUDA). */
    RETRIEVAL,
    /** {@code ClusteringOps}: core distances, mutual-reachability spanning tree, PCA (reference and fast CPU). */
    CLUSTERING,
    /** {@code QuantizedOps}: the integer-only INT8 transformer ops of I-ViT (reference and fast CPU, CUDA). */
    QUANTIZED
}
