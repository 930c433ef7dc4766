package io.inflow.gpu.backend;

import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.tensor.Tensor;

/**
 * The {@link Family#IMAGE} kernels: preprocessing decoded 8-bit images of any size into model input, and the ViT
 * patch embedding's im2col. Contract: {@code ImageContractTest}, run on every backend that supports the family.
 *
 * <pre>{@code
 * ImageOps img = backend.image();
 * img.preprocessImages(batch.pixels(), batch.offsets(), batch.widths(), batch.heights(), batch.channels(),
 *         preprocessConfig, input);                     // float32 [b, c, h, w]
 * img.patchify(input, 4, patches);                      // [b * (h/4)^2, c * 4 * 4]
 * }</pre>
 */
public interface ImageOps {

    /**
     * Resize + centre-crop + colour-convert + rescale/mean/std normalise a batch of decoded 8-bit images of any size
     * into model input, with exactly the semantics of {@link io.inflow.gpu.image.ImagePreprocessor#preprocess} per
     * image (PIL luma or gray replication first, then the {@link io.inflow.gpu.image.Resampler} filter, shortest-edge
     * resize and centre crop when configured, then {@code (s * rescale - mean[c]) / std[c]}, written channel-major).
     *
     * <p>The inputs are the buffers of a {@link io.inflow.gpu.batch.DecodedImageBatch}: {@code pixels} uint8
     * {@code [bytes]} (image {@code i} is {@code pixels[offsets[i] .. offsets[i + 1])}, interleaved
     * {@code [height, width, channels]}), int32 {@code offsets [b + 1]}, int32 {@code widths}, {@code heights} and
     * {@code channels [b]} (1 or 3). They may be host tensors (wrapped Arrow buffers) on every backend; a device
     * backend copies them itself. {@code out} is backend memory, float32
     * {@code [b, config.channels(), config.height(), config.width()]}. An image whose byte count disagrees with its
     * size, or with channels other than 1 or 3, fails naming the image.
     */
    void preprocessImages(Tensor pixels, Tensor offsets, Tensor widths, Tensor heights, Tensor channels,
                          ImagePreprocessConfig config, Tensor out);

    /**
     * im2col for a ViT patch embedding: float32 {@code pixels [b, c, s, s]} to {@code out [b * (s/p)^2, c * p * p]},
     * patches in row-major grid order, each row in the convolution weight's {@code (c, ky, kx)} order, so that
     * {@code linear(out, weight.reshape(d, c * p * p), bias)} is the stride-{@code p} convolution. {@code patch} must
     * divide {@code s}; {@code out} must not alias {@code pixels}.
     */
    void patchify(Tensor pixels, int patch, Tensor out);
}
