package io.inflow.operators.retrieval;

import io.inflow.operators.decode.DeadLetters;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.SourcedImage;
import io.inflow.schemas.SourcedText;

import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Splits corpus changes between the text index and, when image documents are indexed ({@code images}), the image
 * index (text and image vectors are different spaces, so each modality has its own index):
 * <ul>
 *   <li>a text upsert goes on (main output) to be tokenized and embedded; with images it also deletes the id from
 *       the image index ({@link #IMAGE_DELETES}), so a document that changed modality ends in one index only;</li>
 *   <li>an image upsert goes to {@link #IMAGE_UPSERTS} (pixels decoded and embedded like image events) and deletes
 *       the id from the text index ({@link #DELETES}); without images it is dead-lettered
 *       ({@code image_unsupported}) and still deletes the id from the text index (the corpus's last record of the
 *       id is not a text);</li>
 *   <li>a delete (no modality) goes to both: {@link #DELETES} and, with images, {@link #IMAGE_DELETES}.</li>
 * </ul>
 * Every delete carries the corpus record that caused it: the index orders a document's changes by offset, so a
 * delete made by a later upsert of the other modality overrides an earlier upsert still being embedded and is
 * itself overridden by a later one. A delete of an id an index does not hold only records the offset.
 *
 * <p>{@code var upserts = changes.process(new SplitCorpus(true)); upserts.getSideOutput(SplitCorpus.DELETES);}
 */
public final class SplitCorpus extends ProcessFunction<CorpusChange, SourcedText> {

    private static final long serialVersionUID = 1L;
    /** The text index's deletes. */
    public static final OutputTag<DocUpdate> DELETES = new OutputTag<>("corpus-deletes") {
    };
    /** The image index's deletes (only when image documents are indexed). */
    public static final OutputTag<DocUpdate> IMAGE_DELETES = new OutputTag<>("corpus-image-deletes") {
    };
    /** The image documents to decode and embed (only when image documents are indexed). */
    public static final OutputTag<SourcedImage> IMAGE_UPSERTS = new OutputTag<>("corpus-image-upserts") {
    };

    private final boolean images;

    /** Text documents only: image documents are dead-lettered. */
    public SplitCorpus() {
        this(false);
    }

    /** @param images whether an image index takes image documents */
    public SplitCorpus(boolean images) {
        this.images = images;
    }

    @Override
    public void processElement(CorpusChange change, Context ctx, Collector<SourcedText> out) {
        if (change.upsert() != null) {
            out.collect(change.upsert());
            if (images) {
                ctx.output(IMAGE_DELETES, DocUpdate.delete(change.docId(), change.upsert().raw()));
            }
        } else if (change.image() != null) {
            SourcedImage image = change.image();
            ctx.output(DELETES, DocUpdate.delete(change.docId(), image.raw()));
            if (images) {
                ctx.output(IMAGE_UPSERTS, image);
            } else {
                ctx.output(DeadLetters.TAG, DeadLetters.of(image.raw(), ErrorKind.IMAGE_UNSUPPORTED,
                        "corpus document " + change.docId() + " is an image, and image documents are only indexed"
                                + " with inflow.image.enabled=true", RetrievalCompute.STAGE,
                        ctx.timerService().currentProcessingTime()));
            }
        } else {
            ctx.output(DELETES, change.delete());
            if (images) {
                ctx.output(IMAGE_DELETES, change.delete());
            }
        }
    }
}
