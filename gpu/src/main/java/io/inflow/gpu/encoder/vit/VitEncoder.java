package io.inflow.gpu.encoder.vit;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.head.Head;
import io.inflow.gpu.head.Heads;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.model.safetensors.SafetensorsWeights;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Image embedding and classification with a vision transformer (Hugging Face ViT or CLIP vision tower): decoded
 * images (preprocessed on the backend) or pixel values in, pooled (optionally projected and normalised) embeddings
 * and classifier logits out. Built from a {@link VitEncoderConfig}; owns its backend, weights, head and workspace.
 * One call at a time ({@code encode} is synchronized).
 *
 * <pre>{@code
 * try (VitEncoder vit = VitEncoder.create(VitEncoderConfig.builder()
 *         .modelResource("models/vit-fashion-mnist").backend(BackendKind.CPU).threads(2).build());
 *      DecodedImageBatch batch = new DecodedImageBatch(allocator, 64)) {
 *     batch.append(decoder.decode(pngBytes));                 // any size, gray or RGB
 *     VitOutput out = vit.encode(batch);      // out.embeddings() [b, 128], out.logits() [b, 10]
 *     String label = out.label(0);
 *     // already preprocessed float32 [b, c, h, w] (an ImageBatch): vit.encode(Tensor.wrap(buf, FLOAT32, b, 1, 28, 28))
 * }
 * }</pre>
 */
public final class VitEncoder implements AutoCloseable {
    private final VitEncoderConfig config;
    private final VitConfig vit;
    private final Backend backend;
    private final VitWeights weights;
    private final VitTransformer transformer;
    private final Head head;
    private final PoolingMode pooling;
    private final ImagePreprocessConfig preprocess;
    private final Workspace ws;
    private final int dimension;

    private VitEncoder(VitEncoderConfig config, VitConfig vit, ImagePreprocessConfig preprocess, Backend backend,
                       VitWeights weights, Head head) {
        this.config = config;
        this.vit = vit;
        this.preprocess = preprocess;
        this.backend = backend;
        this.weights = weights;
        this.transformer = new VitTransformer(backend, vit, weights);
        this.head = head;
        this.pooling = config.pooling() != null ? config.pooling()
                : "mean".equalsIgnoreCase(vit.defaultPooling()) ? PoolingMode.MEAN : PoolingMode.CLS;
        this.ws = new Workspace(backend);
        this.dimension = head == null ? vit.hidden() : head.outDim();
    }

    /** Loads the model, head and backend the config names; fails at load on a missing or mis-shaped tensor. */
    public static VitEncoder create(VitEncoderConfig config) throws IOException {
        return create(config, Backends.create(config.backend(), config.threads(), config.allocator(), config.cuda()));
    }

    /** As {@link #create(VitEncoderConfig)} on a given backend (its kind overrides the config's); takes ownership. */
    static VitEncoder create(VitEncoderConfig config, Backend backend) throws IOException {
        VitWeights weights = null;
        try {
            backend.require(Family.TRANSFORMER);
            backend.require(Family.IMAGE);
            Path dir = config.modelDir() != null ? config.modelDir() : resourceDir(config.modelResource());
            VitConfig vit = VitConfig.read(dir.resolve("config.json"));
            ImagePreprocessConfig preprocess = preprocessConfig(dir.resolve("config.json"), vit);
            try (SafetensorsWeights source = SafetensorsWeights.open(dir)) {
                weights = VitWeights.load(source, vit, backend);
            }
            Head head = Heads.load(config.head(), backend, vit.hidden());
            return new VitEncoder(config, vit, preprocess, backend, weights, head);
        } catch (IOException | RuntimeException e) {
            if (weights != null) {
                weights.close();
            }
            backend.close();
            throw e;
        }
    }

    /** The preprocessing of {@code config.json}, which must make the model's input shape. */
    private static ImagePreprocessConfig preprocessConfig(Path configJson, VitConfig vit) throws IOException {
        ImagePreprocessConfig pre;
        try (InputStream in = Files.newInputStream(configJson)) {
            pre = ImagePreprocessConfig.fromModelConfig(in);
        }
        if (pre.channels() != vit.channels() || pre.height() != vit.imageSize() || pre.width() != vit.imageSize()) {
            throw new IllegalArgumentException(configJson + ": preprocessing makes [" + pre.channels() + ", "
                    + pre.height() + ", " + pre.width() + "] images but the model takes [" + vit.channels() + ", "
                    + vit.imageSize() + ", " + vit.imageSize() + "]");
        }
        return pre;
    }

    /**
     * A classpath model directory as a path: itself when on the file system, else copied out of the jar.
     * {@code Path dir = VitEncoder.resourceDir("models/vit-fashion-mnist");}
     */
    public static Path resourceDir(String resource) throws IOException {
        ClassLoader loader = VitEncoder.class.getClassLoader();
        URL url = loader.getResource(resource + "/config.json");
        if (url == null) {
            throw new IOException("model resource " + resource + "/config.json not found on the classpath");
        }
        if ("file".equals(url.getProtocol())) {
            try {
                return Path.of(url.toURI()).getParent();
            } catch (URISyntaxException e) {
                throw new IOException("bad resource URL " + url, e);
            }
        }
        Path tmp = Files.createTempDirectory("inflow-vit-");
        tmp.toFile().deleteOnExit();
        for (String name : List.of("config.json", "model.safetensors")) {
            try (InputStream in = loader.getResourceAsStream(resource + "/" + name)) {
                if (in == null) {
                    throw new IOException("model resource " + resource + "/" + name + " not found on the classpath");
                }
                Path target = tmp.resolve(name);
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                target.toFile().deleteOnExit();
            }
        }
        return tmp;
    }

    /**
     * Encodes a batch of decoded images of any size (gray or RGB): the backend preprocesses them
     * ({@link io.inflow.gpu.backend.ImageOps#preprocessImages} with {@link #preprocessConfig()}, reading the batch's Arrow buffers in place;
     * a CUDA backend copies them to the device), then the forward pass, pooling, head and classifier run as in
     * {@link #encode(Tensor)}.
     *
     * @throws IllegalArgumentException on an empty batch
     */
    public synchronized VitOutput encode(DecodedImageBatch batch) {
        int b = batch.rowCount();
        if (b == 0) {
            throw new IllegalArgumentException("encode: empty image batch (" + config.modelName() + ")");
        }
        long bytes = batch.pixelBytes();
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("encode: the batch holds " + bytes + " pixel bytes, more than one"
                    + " tensor's " + Integer.MAX_VALUE + "; append fewer images per batch");
        }
        Tensor pixels = Tensor.wrap(batch.pixelsBuffer(), DType.UINT8, (int) bytes);
        Tensor offsets = Tensor.wrap(batch.offsetsBuffer(), DType.INT32, b + 1);
        Tensor widths = Tensor.wrap(batch.widthsBuffer(), DType.INT32, b);
        Tensor heights = Tensor.wrap(batch.heightsBuffer(), DType.INT32, b);
        Tensor channels = Tensor.wrap(batch.channelsBuffer(), DType.INT32, b);
        Tensor input = ws.get("pixel.values", b, preprocess.channels(), preprocess.height(), preprocess.width());
        backend.image().preprocessImages(pixels, offsets, widths, heights, channels, preprocess, input);
        return encodePixels(input);
    }

    /**
     * Encodes {@code pixelValues}, float32 {@code [b, c, h, w]} with {@code (c, h, w) = inputShape()}, already
     * preprocessed: in host memory (an {@code ImageBatch} buffer wrapped with {@link Tensor#wrap}) or backend memory.
     */
    public synchronized VitOutput encode(Tensor pixelValues) {
        return encodePixels(pixelValues);
    }

    private VitOutput encodePixels(Tensor pixelValues) {
        Tensor hidden = transformer.forward(pixelValues);
        int b = hidden.dim(0);
        int d = vit.hidden();
        Tensor cls = ws.get("cls", b, d);
        backend.transformer().firstTokenPool(hidden, cls);
        float[] logits = new float[0];
        if (weights.hasClassifier()) {
            Tensor z = ws.get("logits", b, vit.numLabels());
            backend.transformer().linear(cls, weights.classifier, weights.classifierBias, z);
            logits = backend.download(z);
        }
        Tensor x = cls;
        if (pooling == PoolingMode.MEAN) {
            x = ws.get("pooled", b, d);
            backend.transformer().meanPool(hidden, transformer.lengths(), x);
        }
        if (head != null) {
            Tensor projected = ws.get("projected", b, head.outDim());
            head.apply(backend, x, projected, ws);
            x = projected;
        }
        if (config.normalize()) {
            backend.transformer().l2Normalize(x, x);
        }
        List<String> labels = weights.hasClassifier() ? vit.labels() : List.of();
        return VitOutput.of(b, dimension, backend.download(x), labels, logits);
    }

    /** Width of the returned embeddings (after the head, if any). */
    public int dimension() {
        return dimension;
    }

    /** Class names in logit order (empty when the model has no classifier). */
    public List<String> labels() {
        return weights.hasClassifier() ? vit.labels() : List.of();
    }

    public String modelName() {
        return config.modelName();
    }

    /** The accepted pixel shape {@code {channels, height, width}}. */
    public int[] inputShape() {
        return new int[] {vit.channels(), vit.imageSize(), vit.imageSize()};
    }

    /** How {@link #encode(DecodedImageBatch)} preprocesses images (from the model's {@code config.json}). */
    public ImagePreprocessConfig preprocessConfig() {
        return preprocess;
    }

    public VitConfig vitConfig() {
        return vit;
    }

    public PoolingMode pooling() {
        return pooling;
    }

    public String backendName() {
        return backend.name();
    }

    @Override
    public synchronized void close() {
        ws.close();
        transformer.close();
        if (head != null) {
            head.close();
        }
        weights.close();
        backend.close();
    }
}
