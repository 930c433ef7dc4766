package io.inflow.jobs.config;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.operators.batch.ImageBatchingConfig;
import io.inflow.operators.batch.ImageBatchingOptions;
import io.inflow.operators.embed.CudaOptions;
import io.inflow.operators.embed.ImageEncoderSpec;
import io.inflow.operators.image.ImageDecodeSpec;

import org.apache.flink.configuration.ReadableConfig;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the image branch reads from the Flink configuration, validated at start: a bad value fails here with a
 * message naming the key.
 *
 * <p>{@code ImageSettings s = ImageSettings.from(config, limits.maxImageBytes(), backend, threads);}
 *
 * @param topK class scores per event
 * @param decoderThreads image decoding threads per operator instance
 * @param decodeCapacity images in the async decoding queue per operator instance
 */
public record ImageSettings(ImageDecodeSpec decode, ImageBatchingConfig batching, ImageEncoderSpec encoder, int topK,
        int decoderThreads, int decodeCapacity) {

    /**
     * Reads the {@code inflow.image.*} keys.
     *
     * @param maxImageBytes the largest encoded image (the schemas' limit)
     */
    public static ImageSettings from(ReadableConfig config, int maxImageBytes, BackendKind backend, int threads) {
        String root = config.getOptional(ImageOptions.ROOT).orElse(null);
        if (root != null && !Files.isDirectory(Path.of(root))) {
            throw new IllegalArgumentException("'" + ImageOptions.ROOT.key() + "' is '" + root + "', which is not a"
                    + " directory: point it at the directory your file: image URIs live under, or unset it");
        }
        ImageDecodeSpec decode;
        try {
            decode = new ImageDecodeSpec(maxImageBytes, config.get(ImageOptions.MAX_PIXELS),
                    config.get(ImageOptions.MAX_SIDE), root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + ImageOptions.MAX_PIXELS.key() + "' / '"
                    + ImageOptions.MAX_SIDE.key() + "': " + e.getMessage(), e);
        }
        ImageBatchingConfig batching = ImageBatchingOptions.fromConfiguration(config);
        return new ImageSettings(decode, batching, encoder(config, backend, threads),
                Ranges.between(config, ImageOptions.TOP_K, 0, 1000),
                Ranges.between(config, ImageOptions.DECODER_THREADS, 1, 64),
                Ranges.between(config, ImageOptions.DECODE_CAPACITY, 1, 1024));
    }

    private static ImageEncoderSpec encoder(ReadableConfig config, BackendKind backend, int threads) {
        boolean normalize = config.get(ImageOptions.NORMALIZE);
        String dir = config.getOptional(ImageOptions.MODEL_DIR).orElse(null);
        if (dir == null) {
            String name = config.getOptional(ImageOptions.MODEL_NAME).orElse(ImageEncoderSpec.BUNDLED_MODEL_NAME);
            return new ImageEncoderSpec(null, ImageEncoderSpec.BUNDLED_MODEL, name, normalize, backend, threads,
                    CudaOptions.fromConfiguration(config));
        }
        Path p = Path.of(dir);
        for (String file : new String[] {"config.json", "model.safetensors"}) {
            if (!Files.isRegularFile(p.resolve(file))) {
                throw new IllegalArgumentException("'" + ImageOptions.MODEL_DIR.key() + "' is '" + dir + "', which has"
                        + " no " + file + ": give a directory with a Hugging Face ViT or CLIP-vision config.json and"
                        + " model.safetensors, or unset it for the bundled model");
            }
        }
        String name = config.getOptional(ImageOptions.MODEL_NAME).orElse(p.toAbsolutePath().getFileName().toString());
        return new ImageEncoderSpec(p.toAbsolutePath().toString(), null, name, normalize, backend, threads,
                CudaOptions.fromConfiguration(config));
    }
}
