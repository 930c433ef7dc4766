package io.inflow.operators.retrieval;

import io.inflow.operators.decode.DeadLetters;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.RawRecord;
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
 *   <li>an upsert of a precomputed embedding goes, unencoded, to the index whose encoder's model name equals the
 *       record's {@code model}: the text model's to {@link #TEXT_VECTORS}, deleting the id from the image index
 *       ({@link #IMAGE_DELETES}); the image model's (with images) to {@link #IMAGE_VECTORS}, deleting it from the
 *       text index ({@link #DELETES}). The index checks its dimension and values as for embedded documents. Any
 *       other model is dead-lettered ({@code invalid_field}, naming the accepted models), and so is a text-model
 *       embedding when the text index reranks by MaxSim (it needs token vectors a single vector does not have);
 *       both still delete the id from every index (the corpus's last record of the id is not indexable);</li>
 *   <li>a delete (no modality) goes to both: {@link #DELETES} and, with images, {@link #IMAGE_DELETES}.</li>
 * </ul>
 * Every delete carries the corpus record that caused it: the index orders a document's changes by offset, so a
 * delete made by a later upsert of the other modality overrides an earlier upsert still being embedded and is
 * itself overridden by a later one. A delete of an id an index does not hold only records the offset.
 *
 * <p>{@code var upserts = changes.process(new SplitCorpus(true, "all-minilm-l6-v2", "vit-fashion-mnist", null,
 * false)); upserts.getSideOutput(SplitCorpus.DELETES);}
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
    /** The text index's upserts of precomputed embeddings (made by the text model). */
    public static final OutputTag<DocUpdate> TEXT_VECTORS = new OutputTag<>("corpus-text-vectors") {
    };
    /** The image index's upserts of precomputed embeddings (made by the image model; only with images). */
    public static final OutputTag<DocUpdate> IMAGE_VECTORS = new OutputTag<>("corpus-image-vectors") {
    };

    private final boolean images;
    private final String textModel;
    private final String imageModel;
    private final String filterAttribute;
    private final boolean rerank;

    /** Text documents only: image documents are dead-lettered, and so are precomputed embeddings. */
    public SplitCorpus() {
        this(false);
    }

    /** @param images whether an image index takes image documents (precomputed embeddings are dead-lettered) */
    public SplitCorpus(boolean images) {
        this(images, null, null, null, false);
    }

    /**
     * @param images whether an image index takes image documents
     * @param textModel the text encoder's model name (precomputed embeddings of it go to the text index), or null
     * @param imageModel the image encoder's model name (with images: its precomputed embeddings go to the image
     *     index), or null
     * @param filterAttribute the attribute whose value a precomputed document is filtered by, or null
     * @param rerank whether the text index reranks by MaxSim (a precomputed text-model embedding is then
     *     dead-lettered: it has no token vectors)
     */
    public SplitCorpus(boolean images, String textModel, String imageModel, String filterAttribute, boolean rerank) {
        this.images = images;
        this.textModel = textModel;
        this.imageModel = images ? imageModel : null;
        this.filterAttribute = filterAttribute;
        this.rerank = rerank;
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
        } else if (change.precomputed() != null) {
            precomputed(change.precomputed(), ctx);
        } else {
            ctx.output(DELETES, change.delete());
            if (images) {
                ctx.output(IMAGE_DELETES, change.delete());
            }
        }
    }

    private void precomputed(CorpusChange.Precomputed p, Context ctx) {
        RawRecord raw = p.raw();
        String filter = filterAttribute == null ? null : p.attributes().get(filterAttribute);
        String problem = null;
        if (p.model().equals(textModel)) {
            if (rerank) {
                problem = "corpus document " + p.docId() + " carries a precomputed embedding of model '" + p.model()
                        + "', but the text index reranks by MaxSim (inflow.retrieval.rerank.enabled=true), which"
                        + " needs the token vectors only the job's encoder makes from a text: send the document as"
                        + " 'text', or turn the rerank off";
            } else {
                ctx.output(TEXT_VECTORS, DocUpdate.upsert(p.docId(), p.vector(), filter, raw));
                if (images) {
                    ctx.output(IMAGE_DELETES, DocUpdate.delete(p.docId(), raw));
                }
                return;
            }
        } else if (imageModel != null && p.model().equals(imageModel)) {
            ctx.output(IMAGE_VECTORS, DocUpdate.upsert(p.docId(), p.vector(), filter, raw));
            ctx.output(DELETES, DocUpdate.delete(p.docId(), raw));
            return;
        } else {
            problem = "corpus document " + p.docId() + " carries an embedding of unknown model '" + p.model()
                    + "': accepted models are " + accepted();
        }
        // not indexable: dead-lettered, and the id leaves every index (the corpus's last record of it is this one)
        ctx.output(DeadLetters.TAG, DeadLetters.of(raw, ErrorKind.INVALID_FIELD, problem, RetrievalCompute.STAGE,
                ctx.timerService().currentProcessingTime()));
        ctx.output(DELETES, DocUpdate.delete(p.docId(), raw));
        if (images) {
            ctx.output(IMAGE_DELETES, DocUpdate.delete(p.docId(), raw));
        }
    }

    /** The models whose embeddings an index takes, for the unknown-model message. */
    private String accepted() {
        StringBuilder b = new StringBuilder();
        if (textModel != null) {
            b.append('\'').append(textModel).append("' (text index").append(rerank ? ", only with the rerank off"
                    : "").append(')');
        }
        if (imageModel != null) {
            b.append(b.length() == 0 ? "" : " and ").append('\'').append(imageModel).append("' (image index)");
        } else if (textModel != null) {
            b.append("; image-model embeddings need the image index (inflow.image.enabled=true)");
        }
        return b.length() == 0 ? "none (this job takes no precomputed embeddings)" : b.toString();
    }
}
