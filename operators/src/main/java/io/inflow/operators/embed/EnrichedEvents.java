package io.inflow.operators.embed;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.Float16;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.SourcedText;

/**
 * Builds the enriched event for one row of a computed batch.
 *
 * <p>{@code EnrichedEvent e = EnrichedEvents.text(input, batch, row, output, model, EmbeddingEncoding.FLOAT32, now);}
 */
public final class EnrichedEvents {

    /** {@code input_type} of events made from text. */
    public static final String TEXT = "text";

    private EnrichedEvents() {
    }

    public static EnrichedEvent text(SourcedText input, TokenBatch batch, int row, BatchOutput output,
            ModelRef model, EmbeddingEncoding encoding, long processedAtMs) {
        float[] embedding = null;
        String f16 = null;
        Integer dim = null;
        if (output.hasEmbeddings() && encoding != EmbeddingEncoding.OMIT) {
            float[] values = output.row(row);
            dim = output.dimension();
            if (encoding == EmbeddingEncoding.FLOAT32) {
                embedding = values;
            } else {
                f16 = Float16.encodeBase64(values);
            }
        }
        return new EnrichedEvent(input.event().id(), TEXT, input.source(), model, batch.tokenCount(row),
                batch.truncated(row), dim, embedding, f16, null, input.event().attributes(), processedAtMs);
    }
}
