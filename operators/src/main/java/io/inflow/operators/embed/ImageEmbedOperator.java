package io.inflow.operators.embed;

import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.encoder.vit.VitOutput;
import io.inflow.operators.batch.ImageBatchingConfig;
import io.inflow.operators.batch.MicroBatchOperator;
import io.inflow.operators.image.DecodedImageEvent;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.ModelRef;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/**
 * Packs decoded images into Arrow {@link DecodedImageBatch}es, computes each batch off the task thread (preprocessing
 * and the ViT on the encoder's backend, {@link VitCompute}) and emits one {@link EnrichedEvent} per image with its
 * embedding and its top class scores. Batching, back pressure, timers and checkpoint flushing are
 * {@link MicroBatchOperator}'s; images of any size share one bucket, and a batch is full at {@code maxRecords} images
 * or {@code maxPixelBytes} decoded bytes.
 *
 * <p>Create it through {@link ImageEmbedOperatorFactory}:
 * <pre>{@code
 * DataStream<EncodedRecord> out = decodedImages.transform("batch + vit", TypeInformation.of(EncodedRecord.class),
 *         new ImageEmbedOperatorFactory(ImageBatchingConfig.defaults(),
 *                 new VitCompute(ImageEncoderSpec.bundled(BackendKind.CPU, 2)), EmbeddingEncoding.FLOAT32, 3,
 *                 new OutputEncoder(1 << 20)));
 * }</pre>
 */
public final class ImageEmbedOperator extends MicroBatchOperator<DecodedImageEvent, DecodedImageBatch, VitOutput> {

    private static final long serialVersionUID = 1L;
    /** The {@code operator} label of its metrics. */
    public static final String METRICS_OPERATOR = "embed";
    /** The {@code modality} label of its metrics. */
    public static final String MODALITY = "image";

    private final ImageBatchingConfig config;
    private final VitCompute compute;
    private final EmbeddingEncoding encoding;
    private final int topK;
    private transient int tokensPerImage;

    ImageEmbedOperator(StreamOperatorParameters<EncodedRecord> parameters, ImageBatchingConfig config,
            VitCompute compute, EmbeddingEncoding encoding, int topK, OutputEncoder encoder) {
        super(parameters, config.maxWait(), config.maxInFlight(), METRICS_OPERATOR, MODALITY, encoder);
        this.config = config;
        this.compute = compute;
        this.encoding = encoding;
        this.topK = topK;
    }

    @Override
    protected int bucketCount() {
        return 1;
    }

    @Override
    protected int bucketOf(DecodedImageEvent input) {
        return 0;
    }

    @Override
    protected DecodedImageBatch newBatch(BufferAllocator allocator, int bucket) {
        return new DecodedImageBatch(allocator, config.maxRecords());
    }

    @Override
    protected void append(DecodedImageBatch batch, DecodedImageEvent input) {
        batch.append(input.image());
    }

    @Override
    protected boolean isFull(DecodedImageBatch batch) {
        return batch.isFull() || batch.pixelBytes() >= config.maxPixelBytes();
    }

    @Override
    protected long[] units(DecodedImageBatch batch) {
        long tokens = (long) batch.rowCount() * tokensPerImage;
        return new long[] {tokens, tokens};
    }

    @Override
    protected String describe(DecodedImageBatch batch) {
        return batch.rowCount() + " images, " + batch.pixelBytes() + " pixel bytes";
    }

    @Override
    protected void openCompute() throws Exception {
        compute.open();
        tokensPerImage = compute.tokensPerImage();
    }

    @Override
    protected ModelRef model() {
        return compute.model();
    }

    @Override
    protected String backend() {
        return compute.backend();
    }

    @Override
    protected VitOutput compute(DecodedImageBatch batch) {
        return compute.compute(batch);
    }

    @Override
    protected int resultRows(VitOutput result) {
        return result.rows();
    }

    @Override
    protected boolean finite(VitOutput result, int row) {
        return Finite.rows(result.embeddings(), result.dimension(), row)
                && Finite.rows(result.probabilities(), result.numLabels(), row);
    }

    @Override
    protected RawRecord raw(DecodedImageEvent input) {
        return input.raw();
    }

    @Override
    protected EnrichedEvent enrich(DecodedImageEvent input, DecodedImageBatch batch, int row, VitOutput result,
            ModelRef model, long nowMs) {
        return EnrichedEvents.image(input, row, result, model, encoding, topK, nowMs);
    }

    @Override
    protected void closeCompute() throws Exception {
        compute.close();
    }
}
