package io.inflow.operators.embed;

import io.inflow.operators.batch.ImageBatchingConfig;
import io.inflow.operators.batch.MicroBatchOperator;
import io.inflow.operators.batch.MicroBatchOperatorFactory;
import io.inflow.operators.image.DecodedImageEvent;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.schemas.EncodedRecord;

import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/**
 * Creates {@link ImageEmbedOperator}s.
 *
 * <pre>{@code
 * images.transform("batch + vit", TypeInformation.of(EncodedRecord.class),
 *         new ImageEmbedOperatorFactory(ImageBatchingConfig.defaults(), compute, EmbeddingEncoding.FLOAT32, 3,
 *                 new OutputEncoder(1 << 20)));
 * }</pre>
 */
public final class ImageEmbedOperatorFactory extends MicroBatchOperatorFactory<DecodedImageEvent> {

    private static final long serialVersionUID = 1L;

    private final ImageBatchingConfig config;
    private final VitCompute compute;
    private final EmbeddingEncoding encoding;
    private final int topK;
    private final OutputEncoder encoder;

    /**
     * @param topK class scores per event (highest first); 0 for none, capped at the model's number of classes
     */
    public ImageEmbedOperatorFactory(ImageBatchingConfig config, VitCompute compute, EmbeddingEncoding encoding,
            int topK, OutputEncoder encoder) {
        super(ImageEmbedOperator.class);
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
    protected MicroBatchOperator<DecodedImageEvent, ?, ?> create(StreamOperatorParameters<EncodedRecord> parameters) {
        return new ImageEmbedOperator(parameters, config, compute, encoding, topK, encoder);
    }
}
