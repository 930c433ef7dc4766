package io.inflow.gpu.quant;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.encoder.vit.VitConfig;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.model.safetensors.SafetensorsWeights;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.FashionMnist;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The trained Fashion-MNIST ViT ({@code models/vit-fashion-mnist}) for the integer-path tests: its directory,
 * config, preprocessing, and quantization on a range of images.
 *
 * <p>{@code Int8Vit q = VitInt8Fixture.quantize(backend, VitInt8Fixture.pixels(train, 0, 256), 256, opts, null);}
 */
final class VitInt8Fixture {
    static final String MODEL = "models/vit-fashion-mnist";

    private VitInt8Fixture() {
    }

    static Path modelDir() throws IOException {
        try {
            return Path.of(VitInt8Fixture.class.getClassLoader().getResource(MODEL + "/config.json").toURI())
                    .getParent();
        } catch (URISyntaxException | NullPointerException e) {
            throw new IOException("model resource " + MODEL + " not found", e);
        }
    }

    static VitConfig config() throws IOException {
        return VitConfig.read(modelDir().resolve("config.json"));
    }

    static ImagePreprocessor preprocessor() throws IOException {
        try (InputStream in = Files.newInputStream(modelDir().resolve("config.json"))) {
            return new ImagePreprocessor(ImagePreprocessConfig.fromModelConfig(in));
        }
    }

    /** Images {@code [from, from + n)} of {@code data}, preprocessed as the model's config says: {@code [n, 1, 28, 28]}. */
    static float[] pixels(FashionMnist data, int from, int n) throws IOException {
        ImagePreprocessor pre = preprocessor();
        int per = pre.outputFloats();
        float[] out = new float[n * per];
        for (int i = 0; i < n; i++) {
            System.arraycopy(pre.preprocess(data.image(from + i)), 0, out, i * per, per);
        }
        return out;
    }

    /** Quantizes the model on {@code backend}, calibrating on {@code images} preprocessed images. */
    static Int8Vit quantize(Backend backend, float[] pixels, int images, CalibrationOptions options,
                            Consumer<String> progress) throws IOException {
        VitConfig c = config();
        try (SafetensorsWeights w = SafetensorsWeights.open(modelDir());
             Tensor calib = backend.upload(pixels, images, c.channels(), c.imageSize(), c.imageSize())) {
            return VitQuantizer.quantize(w, c, calib, backend, options, progress);
        }
    }
}
