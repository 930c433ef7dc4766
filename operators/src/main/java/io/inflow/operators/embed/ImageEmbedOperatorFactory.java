package io.inflow.operators.embed;

import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.operators.batch.BatchOperatorFactory;
import io.inflow.operators.batch.BatchSettings;
import io.inflow.operators.batch.ImageBatchingConfig;
import io.inflow.operators.image.DecodedImageEvent;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.schemas.EncodedRecord;

/**
 * The image embedding operator: a {@link io.inflow.operators.batch.BatchOperator} running {@link ImageEmbedCompute}.
 *
 * <pre>{@code
 * images.transform("batch + vit", TypeInformation.of(EncodedRecord.class),
 *         new ImageEmbedOperatorFactory(ImageBatchingConfig.defaults(), compute, EmbeddingEncoding.FLOAT32, 3,
 *                 new OutputEncoder(1 << 20)));
 * }</pre>
 */
public final class ImageEmbedOperatorFactory
        extends BatchOperatorFactory<DecodedImageEvent, DecodedImageBatch, RowOutcomes, EncodedRecord> {

    private static final long serialVersionUID = 1L;
    /** The {@code operator} label of its metrics. */
    public static final String METRICS_OPERATOR = "embed";
    /** The {@code modality} label of its metrics. */
    public static final String MODALITY = "image";

    /**
     * @param topK class scores per event (highest first); 0 for none, capped at the model's number of classes
     */
    public ImageEmbedOperatorFactory(ImageBatchingConfig config, VitCompute compute, EmbeddingEncoding encoding,
            int topK, OutputEncoder encoder) {
        super(new ImageEmbedCompute<>(config, compute, encoding, topK, encoder),
                new BatchSettings(config.maxWait(), config.maxInFlight(), METRICS_OPERATOR, MODALITY));
    }
}
