package io.inflow.sql;

import io.inflow.schemas.ErrorKind;

import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;

import java.util.List;

/**
 * {@code ML_PREDICT} for an {@code image-embedding} model: micro-batches of encoded images
 * ({@link BatchedPredictFunction}) are decoded and embedded on the compute thread by the DataStream pipeline's
 * decoder and ViT ({@link ImageEmbedder}); each row gets its {@code ARRAY<FLOAT>} embedding and, when the model's
 * output has them, the top-1 class and its probability.
 *
 * <p>Bad rows never fail the job: NULL bytes get NULL outputs at once; an image that is corrupt, of an unsupported
 * format or over the decoder's limits gets NULL outputs and is counted in
 * {@code inflow_dead_letters_total{operator="ml-predict",modality="image",reason="image_corrupt"|"image_unsupported"|"image_too_large"}}.
 *
 * <p>Created by {@link InflowModelProvider}: {@code new ImagePredictFunction(settings, 64)}.
 */
public final class ImagePredictFunction extends BatchedPredictFunction<byte[], ImageEmbedder> {

    private static final long serialVersionUID = 1L;

    private final ImageModelSettings settings;

    /**
     * @param batchRows rows per micro-batch: {@code max-records}, lowered to the rows Flink keeps in flight when
     *     that is smaller
     */
    public ImagePredictFunction(ImageModelSettings settings, int batchRows) {
        super(settings, batchRows, settings.classify() ? 3 : 1);
        this.settings = settings;
    }

    @Override
    protected ImageEmbedder openModel(String name) throws Exception {
        return ImageEmbedder.open(settings, name);
    }

    @Override
    protected String version(ImageEmbedder model) {
        return model.version();
    }

    @Override
    protected String backend(ImageEmbedder model) {
        return model.backend();
    }

    @Override
    protected byte[] input(RowData row) {
        return row.isNullAt(0) ? null : row.getBinary(0);
    }

    @Override
    protected Answers compute(ImageEmbedder model, List<byte[]> images) throws Exception {
        ImageEmbedder.Result result = model.embed(images);
        RowData[] rows = new RowData[images.size()];
        for (int r = 0; r < rows.length; r++) {
            if (result.rejected()[r] == null) {
                GenericArrayData embedding = new GenericArrayData(result.embeddings()[r]);
                rows[r] = settings.classify()
                        ? GenericRowData.of(embedding, StringData.fromString(result.labels()[r]), result.scores()[r])
                        : GenericRowData.of(embedding);
            }
        }
        ErrorKind[] rejected = result.rejected();
        return new Answers(rows, rejected, result.tokens(), 0, 0);
    }
}
