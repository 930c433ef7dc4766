package io.inflow.operators.embed;

import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.encoder.vit.VitOutput;
import io.inflow.operators.batch.BatchCompute;
import io.inflow.operators.batch.Emitter;
import io.inflow.operators.batch.ImageBatchingConfig;
import io.inflow.operators.image.DecodedImageEvent;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;

import org.apache.arrow.memory.BufferAllocator;

import java.util.List;

/**
 * Image embedding as a {@link BatchCompute}: decoded images go into Arrow {@link DecodedImageBatch}es (images of any
 * size share one bucket; a batch is full at {@code maxRecords} images or {@code maxPixelBytes} decoded bytes, and an
 * image that would push a non-empty batch over the byte limit starts a new one, so a large image forms a batch of
 * its own); preprocessing and the ViT run on the encoder's backend ({@link VitCompute}), and each image becomes its
 * encoded enriched record (embedding, top-k classes) or its dead letter.
 *
 * <p>Run it through {@link ImageEmbedOperatorFactory}.
 */
public final class ImageEmbedCompute<OUT>
        implements BatchCompute<DecodedImageEvent, DecodedImageBatch, RowOutcomes, OUT> {

    private static final long serialVersionUID = 1L;

    private final ImageBatchingConfig config;
    private final VitCompute compute;
    private final EmbeddingEncoding encoding;
    private final int topK;
    private final RowOutput<OUT> encoder;
    private transient int tokensPerImage;

    public ImageEmbedCompute(ImageBatchingConfig config, VitCompute compute, EmbeddingEncoding encoding, int topK,
            RowOutput<OUT> encoder) {
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (was " + topK + ")");
        }
        this.config = config;
        this.compute = compute;
        this.encoding = encoding;
        this.topK = topK;
        this.encoder = encoder;
    }

    @Override
    public DecodedImageBatch newBatch(BufferAllocator allocator, int bucket) {
        return new DecodedImageBatch(allocator, config.maxRecords());
    }

    @Override
    public boolean fits(DecodedImageBatch batch, DecodedImageEvent input) {
        return !batch.isFull() && batch.pixelBytes() + input.image().pixels().length <= config.maxPixelBytes();
    }

    @Override
    public void append(DecodedImageBatch batch, DecodedImageEvent input) {
        batch.append(input.image());
    }

    @Override
    public boolean isFull(DecodedImageBatch batch) {
        return batch.isFull() || batch.pixelBytes() >= config.maxPixelBytes();
    }

    @Override
    public long[] units(DecodedImageBatch batch) {
        long tokens = (long) batch.rowCount() * tokensPerImage;
        return new long[] {tokens, tokens};
    }

    @Override
    public String describe(DecodedImageBatch batch) {
        return batch.rowCount() + " images, " + batch.pixelBytes() + " pixel bytes";
    }

    @Override
    public RawRecord raw(DecodedImageEvent input) {
        return input.raw();
    }

    @Override
    public void open() throws Exception {
        compute.open();
        tokensPerImage = compute.tokensPerImage();
    }

    @Override
    public ModelRef model() {
        return compute.model();
    }

    @Override
    public String backend() {
        return compute.backend();
    }

    @Override
    public boolean backlogged() {
        return compute.backlogged();
    }

    @Override
    public RowOutcomes compute(DecodedImageBatch batch, List<DecodedImageEvent> inputs) throws Exception {
        VitOutput out = compute.compute(batch);
        ModelRef model = compute.model();
        long now = System.currentTimeMillis();
        return RowOutcomes.build(inputs, out.rows(), DecodedImageEvent::raw,
                row -> Finite.row(out.embeddings(), out.dimension(), row)
                        && Finite.row(out.probabilities(), out.numLabels(), row),
                row -> EnrichedEvents.image(inputs.get(row), row, out, model, encoding, topK, now),
                row -> encoder.needsEmbedding() ? java.util.Arrays.copyOfRange(out.embeddings(),
                        row * out.dimension(), (row + 1) * out.dimension()) : null, encoder, now);
    }

    @Override
    public int resultRows(RowOutcomes result) {
        return result.rows();
    }

    @Override
    public void emit(DecodedImageEvent input, int row, RowOutcomes result, Emitter<OUT> out) {
        result.emit(row, out);
    }

    @Override
    public void close() throws Exception {
        compute.close();
    }
}
