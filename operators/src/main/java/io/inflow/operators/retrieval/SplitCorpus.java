package io.inflow.operators.retrieval;

import io.inflow.schemas.SourcedText;

import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Splits corpus changes: upserts go on to be tokenized and embedded, deletes go straight to the index on
 * {@link #DELETES} (no text to embed; the index orders them against upserts by offset).
 *
 * <p>{@code var upserts = changes.process(new SplitCorpus()); upserts.getSideOutput(SplitCorpus.DELETES);}
 */
public final class SplitCorpus extends ProcessFunction<CorpusChange, SourcedText> {

    private static final long serialVersionUID = 1L;
    /** The deletes. */
    public static final OutputTag<DocUpdate> DELETES = new OutputTag<>("corpus-deletes") {
    };

    @Override
    public void processElement(CorpusChange change, Context ctx, Collector<SourcedText> out) {
        if (change.upsert() != null) {
            out.collect(change.upsert());
        } else {
            ctx.output(DELETES, change.delete());
        }
    }
}
