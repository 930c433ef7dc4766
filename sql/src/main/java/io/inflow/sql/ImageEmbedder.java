package io.inflow.sql;

import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.encoder.vit.VitOutput;
import io.inflow.gpu.image.DecodedImage;
import io.inflow.gpu.image.ImageDecoder;
import io.inflow.operators.embed.VitCompute;
import io.inflow.operators.runtime.ArrowMemory;
import io.inflow.operators.runtime.ArrowMemoryOptions;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.RecordRejectedException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The DataStream pipeline's image compute for a list of encoded images: each is decoded by {@link ImageDecoder}
 * (format sniffed from the bytes, size limits checked from the header before any pixel is decoded), the decoded ones
 * go into Arrow {@link DecodedImageBatch}es (at most {@code maxPixelBytes} decoded bytes per batch, as
 * {@code ImageEmbedCompute} batches them) and {@link VitCompute} (the process's shared ViT) embeds and classifies
 * them. Not thread-safe: one compute thread uses it, so decoding runs there too, never on Flink's task thread.
 *
 * <pre>{@code
 * try (ImageEmbedder e = ImageEmbedder.open(settings, "ml-predict-0")) {
 *     ImageEmbedder.Result r = e.embed(List.of(pngBytes));
 *     float[] v = r.embeddings()[0];    // null when r.rejected()[0] says why
 * }
 * }</pre>
 */
final class ImageEmbedder implements AutoCloseable {

    /**
     * One batch's answers, per image.
     *
     * @param embeddings the embedding, null where the image was rejected
     * @param labels the top-1 class (null without a classifier or where rejected)
     * @param scores its probability
     * @param rejected why an image has no answer ({@code image_corrupt}, {@code image_unsupported},
     *     {@code image_too_large}, {@code non_finite_output}), else null
     * @param tokens patch tokens computed (class token included), the batch's work units
     */
    record Result(float[][] embeddings, String[] labels, float[] scores, ErrorKind[] rejected, long tokens) {
    }

    private final ImageDecoder decoder;
    private final VitCompute compute;
    private final ArrowMemory.Child memory;
    private final long maxPixelBytes;

    private ImageEmbedder(ImageDecoder decoder, VitCompute compute, ArrowMemory.Child memory, long maxPixelBytes) {
        this.decoder = decoder;
        this.compute = compute;
        this.memory = memory;
        this.maxPixelBytes = maxPixelBytes;
    }

    /** Makes the decoder and leases the process's ViT for {@code settings.spec()}. */
    static ImageEmbedder open(ImageModelSettings settings, String name) throws Exception {
        VitCompute compute = new VitCompute(settings.spec());
        ArrowMemory.Child memory = null;
        try {
            compute.open();
            memory = ArrowMemory.child(name, ArrowMemoryOptions.MAX_BYTES.defaultValue().getBytes());
            return new ImageEmbedder(new ImageDecoder(settings.decode().toConfig()), compute, memory,
                    settings.maxPixelBytes());
        } catch (Exception | Error e) {
            compute.close();
            if (memory != null) {
                memory.close();
            }
            throw e;
        }
    }

    String backend() {
        return compute.backend();
    }

    /** The weights' hash, pooling and normalisation, e.g. {@code sha256:1a2b3c4d5e6f/cls/l2}. */
    String version() {
        return compute.model().version();
    }

    /**
     * Decodes one image as {@code AsyncImageDecodeFunction.decode} does: the decoder's own rejection, or
     * {@code image_corrupt} for a reader's runtime error on hostile input.
     */
    private Object decode(byte[] bytes) {
        try {
            return decoder.decode(bytes);
        } catch (RecordRejectedException e) {
            return e.kind();
        } catch (RuntimeException e) {
            return ErrorKind.IMAGE_CORRUPT;
        }
    }

    /** Decodes, embeds and classifies {@code images} (none null). */
    Result embed(List<byte[]> images) throws Exception {
        int n = images.size();
        float[][] embeddings = new float[n][];
        String[] labels = new String[n];
        float[] scores = new float[n];
        ErrorKind[] rejected = new ErrorKind[n];
        List<Integer> rows = new ArrayList<>(n);
        List<DecodedImage> decoded = new ArrayList<>(n);
        long tokens = 0;
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            Object d = decode(images.get(i));
            if (d instanceof ErrorKind kind) {
                rejected[i] = kind;
                continue;
            }
            DecodedImage image = (DecodedImage) d;
            if (!decoded.isEmpty() && bytes + image.pixels().length > maxPixelBytes) {
                tokens += computePart(rows, decoded, embeddings, labels, scores, rejected);
                bytes = 0;
            }
            rows.add(i);
            decoded.add(image);
            bytes += image.pixels().length;
        }
        if (!decoded.isEmpty()) {
            tokens += computePart(rows, decoded, embeddings, labels, scores, rejected);
        }
        return new Result(embeddings, labels, scores, rejected, tokens);
    }

    /** One ViT call on the decoded images of {@code rows}; clears both lists. Returns the tokens computed. */
    private long computePart(List<Integer> rows, List<DecodedImage> decoded, float[][] embeddings, String[] labels,
            float[] scores, ErrorKind[] rejected) throws Exception {
        try (DecodedImageBatch batch = new DecodedImageBatch(memory.allocator(), decoded.size())) {
            for (DecodedImage image : decoded) {
                batch.append(image);
            }
            VitOutput out = compute.compute(batch);
            int d = out.dimension();
            int k = out.numLabels();
            for (int r = 0; r < decoded.size(); r++) {
                int row = rows.get(r);
                float[] v = Arrays.copyOfRange(out.embeddings(), r * d, (r + 1) * d);
                float[] p = k == 0 ? new float[0] : Arrays.copyOfRange(out.probabilities(), r * k, (r + 1) * k);
                if (!finite(v) || !finite(p)) {
                    rejected[row] = ErrorKind.NON_FINITE_OUTPUT;
                    continue;
                }
                embeddings[row] = v;
                if (k > 0) {
                    int top = out.argmax(r);
                    labels[row] = out.labels().get(top);
                    scores[row] = p[top];
                }
            }
            long tokens = (long) decoded.size() * compute.tokensPerImage();
            rows.clear();
            decoded.clear();
            return tokens;
        }
    }

    private static boolean finite(float[] v) {
        for (float x : v) {
            if (!Float.isFinite(x)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() throws Exception {
        try {
            compute.close();
        } finally {
            memory.close();
        }
    }
}
