package io.inflow.jobs.config;

import io.inflow.gpu.image.ImageDecoderConfig;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Flink configuration keys of the image branch (events.image -> decode -> batch + ViT -> enriched). Batching keys are
 * in {@code ImageBatchingOptions} ({@code inflow.image.batch.*}); the backend and kernel threads are shared with
 * text ({@code inflow.compute.backend}, {@code inflow.compute.threads}); the largest encoded image is
 * {@code inflow.schemas.max-image-bytes}.
 *
 * <p>{@code ./inflow run --bootstrap-servers kafka:9092 -Dinflow.image.root=/data/images -Dinflow.image.top-k=5}
 */
public final class ImageOptions {

    public static final ConfigOption<Boolean> ENABLED = ConfigOptions.key("inflow.image.enabled")
            .booleanType().defaultValue(true)
            .withDescription("Run the image branch (reads inflow.topics.image-events). false: text only.");

    public static final ConfigOption<String> MODEL_DIR = ConfigOptions.key("inflow.image.model-dir")
            .stringType().noDefaultValue()
            .withDescription("Directory with a Hugging Face ViT or CLIP-vision config.json and model.safetensors."
                    + " Unset: the bundled Fashion-MNIST ViT (1 x 28 x 28 gray, 10 classes).");

    public static final ConfigOption<String> MODEL_NAME = ConfigOptions.key("inflow.image.model-name")
            .stringType().noDefaultValue()
            .withDescription("Model name on enriched events. Default: the model directory's name, or"
                    + " vit-fashion-mnist for the bundled model.");

    public static final ConfigOption<Boolean> NORMALIZE = ConfigOptions.key("inflow.image.normalize")
            .booleanType().defaultValue(true)
            .withDescription("L2-normalise image embeddings.");

    public static final ConfigOption<Integer> TOP_K = ConfigOptions.key("inflow.image.top-k")
            .intType().defaultValue(3)
            .withDescription("Class scores per enriched image event, most probable first (0: none; capped at the"
                    + " model's classes).");

    public static final ConfigOption<String> ROOT = ConfigOptions.key("inflow.image.root")
            .stringType().noDefaultValue()
            .withDescription("Directory that file: image URIs must resolve under; nothing outside it is read."
                    + " Unset: file: URIs are dead-lettered (image_unreadable), inline images only.");

    public static final ConfigOption<Long> MAX_PIXELS = ConfigOptions.key("inflow.image.max-pixels")
            .longType().defaultValue(ImageDecoderConfig.DEFAULT_MAX_PIXELS)
            .withDescription("Largest width x height, checked from the header before decoding.");

    public static final ConfigOption<Integer> MAX_SIDE = ConfigOptions.key("inflow.image.max-side")
            .intType().defaultValue(ImageDecoderConfig.DEFAULT_MAX_SIDE)
            .withDescription("Largest width or height, checked from the header before decoding.");

    public static final ConfigOption<Integer> DECODER_THREADS = ConfigOptions.key("inflow.image.decoder-threads")
            .intType().defaultValue(1)
            .withDescription("Threads per operator instance decoding image files (PNG/JPEG/BMP/GIF).");

    public static final ConfigOption<Integer> DECODE_CAPACITY = ConfigOptions.key("inflow.image.decode-capacity")
            .intType().defaultValue(16)
            .withDescription("Images being decoded or waiting to be batched per subtask (the async queue). Bounds"
                    + " heap: at worst this many decoded images of inflow.image.max-pixels x 3 bytes each.");

    private ImageOptions() {
    }
}
