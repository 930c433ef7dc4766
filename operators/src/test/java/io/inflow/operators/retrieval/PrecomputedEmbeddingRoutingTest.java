package io.inflow.operators.retrieval;

import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TokenStorage;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.decode.DecodeFunction;
import io.inflow.schemas.CorpusRecord;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.Limits;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.RecordCodec;
import io.inflow.schemas.SourceRef;
import io.inflow.schemas.SourcedText;

import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.util.OutputTag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Corpus upserts that carry a precomputed embedding: decoded, routed unencoded to the index whose encoder's model
 * they name (deleting the id from the other index), and dead-lettered when the model is unknown, when the text index
 * reranks by MaxSim, when the JSON holds a value beyond the float range, or (by the index) when the dimension is
 * wrong.
 */
@Timeout(60)
class PrecomputedEmbeddingRoutingTest {

    private static final String TEXT_MODEL = "all-minilm-l6-v2";
    private static final String IMAGE_MODEL = "vit-fashion-mnist";
    private static final RetrievalSettings TEXT = new RetrievalSettings(8, 3, Metric.COSINE, Storage.FLOAT32, 16, 4);

    private static RawRecord corpus(long offset, String key, String json) {
        return new RawRecord("corpus", 0, offset, 1, key.getBytes(StandardCharsets.UTF_8),
                json.getBytes(StandardCharsets.UTF_8));
    }

    private static RawRecord corpus(long offset, CorpusRecord r) {
        return new RawRecord("corpus", 0, offset, 1, r.docId().getBytes(StandardCharsets.UTF_8),
                RecordCodec.encode(r));
    }

    private static <T> List<T> side(OneInputStreamOperatorTestHarness<?, ?> h, OutputTag<T> tag) {
        List<T> out = new ArrayList<>();
        var records = h.getSideOutput(tag);
        if (records != null) {
            for (StreamRecord<T> r : records) {
                out.add(r.getValue());
            }
        }
        return out;
    }

    private static List<CorpusChange> decode(List<RawRecord> raws, List<DeadLetterRecord> dead) throws Exception {
        try (OneInputStreamOperatorTestHarness<RawRecord, CorpusChange> h = new OneInputStreamOperatorTestHarness<>(
                new ProcessOperator<>(new DecodeCorpusFunction(Limits.defaults())))) {
            h.open();
            for (RawRecord r : raws) {
                h.processElement(new StreamRecord<>(r));
            }
            dead.addAll(side(h, DeadLetters.TAG));
            return h.extractOutputValues();
        }
    }

    /** What a split sends where. */
    record Split(List<SourcedText> texts, List<DocUpdate> textVectors, List<DocUpdate> textDeletes,
                 List<DocUpdate> imageVectors, List<DocUpdate> imageDeletes, List<DeadLetterRecord> dead) {
    }

    private static Split split(SplitCorpus function, List<CorpusChange> changes) throws Exception {
        try (OneInputStreamOperatorTestHarness<CorpusChange, SourcedText> h = new OneInputStreamOperatorTestHarness<>(
                new ProcessOperator<>(function))) {
            h.open();
            for (CorpusChange c : changes) {
                h.processElement(new StreamRecord<>(c));
            }
            assertThat(side(h, SplitCorpus.IMAGE_UPSERTS)).isEmpty();
            return new Split(h.extractOutputValues(), side(h, SplitCorpus.TEXT_VECTORS), side(h, SplitCorpus.DELETES),
                    side(h, SplitCorpus.IMAGE_VECTORS), side(h, SplitCorpus.IMAGE_DELETES), side(h, DeadLetters.TAG));
        }
    }

    private static float[] unit(int dim, int axis) {
        float[] v = new float[dim];
        v[axis] = 1f;
        return v;
    }

    @Test
    void anEmbeddingUpsertDecodesToAPrecomputedChange() throws Exception {
        float[] v = {0.5f, -0.25f, 1e-3f, 0f, 0f, 0f, 0f, 0.125f};
        RawRecord raw = corpus(4, CorpusRecord.embeddingUpsert("pre-1", v, TEXT_MODEL, Map.of("tenant", "a"), 9L));
        List<DeadLetterRecord> dead = new ArrayList<>();
        List<CorpusChange> changes = decode(List.of(raw), dead);
        assertThat(dead).isEmpty();
        CorpusChange c = changes.get(0);
        assertThat(c.upsert()).isNull();
        assertThat(c.image()).isNull();
        assertThat(c.delete()).isNull();
        assertThat(c.docId()).isEqualTo("pre-1");
        assertThat(c.raw()).isEqualTo(raw);
        assertThat(c.precomputed().vector()).containsExactly(v);
        assertThat(c.precomputed().model()).isEqualTo(TEXT_MODEL);
        assertThat(c.precomputed().attributes()).containsEntry("tenant", "a");
    }

    @Test
    void aValueBeyondTheFloatRangeIsDeadLetteredAtDecode() throws Exception {
        RawRecord big = corpus(0, "big", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"big\",\"op\":\"upsert\","
                + "\"embedding\":[0.5,4e38],\"model\":\"" + TEXT_MODEL + "\"}");
        RawRecord noModel = corpus(1, "nm", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"nm\",\"op\":\"upsert\","
                + "\"embedding\":[0.5]}");
        List<DeadLetterRecord> dead = new ArrayList<>();
        assertThat(decode(List.of(big, noModel), dead)).isEmpty();
        assertThat(dead).extracting(DeadLetterRecord::kind).containsExactly(ErrorKind.INVALID_FIELD,
                ErrorKind.MISSING_FIELD);
        assertThat(dead).extracting(DeadLetterRecord::stage).containsOnly(DecodeFunction.STAGE);
        assertThat(dead.get(0).message()).contains("embedding[1]", "4E+38", "outside the float range");
        assertThat(dead.get(0).value()).isEqualTo(big.value());
        assertThat(dead.get(1).message()).contains("'model' is missing");
    }

    @Test
    void eachModelGoesToItsIndexUnencodedAndUnknownModelsAreDeadLettered() throws Exception {
        float[] tv = unit(8, 2);
        float[] iv = unit(4, 1);
        RawRecord text = corpus(0, CorpusRecord.embeddingUpsert("t", tv, TEXT_MODEL, Map.of("tenant", "a"), null));
        RawRecord image = corpus(1, CorpusRecord.embeddingUpsert("i", iv, IMAGE_MODEL, Map.of(), null));
        RawRecord unknown = corpus(2, CorpusRecord.embeddingUpsert("u", tv, "text-embedding-3-small", Map.of(),
                null));
        List<CorpusChange> changes = decode(List.of(text, image, unknown), new ArrayList<>());

        Split on = split(new SplitCorpus(true, TEXT_MODEL, IMAGE_MODEL, "tenant", false), changes);
        assertThat(on.texts()).isEmpty(); // nothing to tokenize or embed
        assertThat(on.textVectors()).singleElement().satisfies(u -> {
            assertThat(u.docId()).isEqualTo("t");
            assertThat(u.vector()).containsExactly(tv);
            assertThat(u.filterValue()).isEqualTo("a");
            assertThat(u.tokens()).isNull();
            assertThat(u.raw()).isEqualTo(text);
        });
        assertThat(on.imageVectors()).singleElement().satisfies(u -> {
            assertThat(u.docId()).isEqualTo("i");
            assertThat(u.vector()).containsExactly(iv);
            assertThat(u.filterValue()).isNull();
            assertThat(u.raw()).isEqualTo(image);
        });
        // the other index loses the id; the unknown model's record removes it from both
        assertThat(on.imageDeletes()).allMatch(DocUpdate::isDelete).extracting(DocUpdate::raw)
                .containsExactly(text, unknown);
        assertThat(on.textDeletes()).allMatch(DocUpdate::isDelete).extracting(DocUpdate::raw)
                .containsExactly(image, unknown);
        assertThat(on.dead()).singleElement().satisfies(d -> {
            assertThat(d.kind()).isEqualTo(ErrorKind.INVALID_FIELD);
            assertThat(d.stage()).isEqualTo(RetrievalCompute.STAGE);
            assertThat(d.message()).contains("corpus document u", "unknown model 'text-embedding-3-small'",
                    "'" + TEXT_MODEL + "' (text index)", "'" + IMAGE_MODEL + "' (image index)");
            assertThat(d.value()).isEqualTo(unknown.value());
            assertThat(d.source().offset()).isEqualTo(2);
        });

        // without an image index the image model is unknown too
        Split off = split(new SplitCorpus(false, TEXT_MODEL, IMAGE_MODEL, null, false), changes);
        assertThat(off.textVectors()).extracting(DocUpdate::docId).containsExactly("t");
        assertThat(off.textVectors().get(0).filterValue()).isNull();
        assertThat(off.imageVectors()).isEmpty();
        assertThat(off.imageDeletes()).isEmpty();
        assertThat(off.textDeletes()).extracting(DocUpdate::raw).containsExactly(image, unknown);
        assertThat(off.dead()).hasSize(2).allSatisfy(d -> assertThat(d.kind()).isEqualTo(ErrorKind.INVALID_FIELD));
        assertThat(off.dead().get(0).message()).contains("unknown model '" + IMAGE_MODEL + "'",
                "'" + TEXT_MODEL + "' (text index)", "inflow.image.enabled=true");

        // the old constructor takes no precomputed embeddings at all
        Split none = split(new SplitCorpus(true), changes);
        assertThat(none.textVectors()).isEmpty();
        assertThat(none.imageVectors()).isEmpty();
        assertThat(none.dead()).hasSize(3).allSatisfy(d -> assertThat(d.message()).contains("accepted models are none"));
    }

    @Test
    void withMaxSimRerankATextModelEmbeddingIsDeadLettered() throws Exception {
        RawRecord text = corpus(0, CorpusRecord.embeddingUpsert("t", unit(8, 0), TEXT_MODEL, Map.of(), null));
        RawRecord image = corpus(1, CorpusRecord.embeddingUpsert("i", unit(4, 0), IMAGE_MODEL, Map.of(), null));
        Split s = split(new SplitCorpus(true, TEXT_MODEL, IMAGE_MODEL, null, true),
                decode(List.of(text, image), new ArrayList<>()));
        assertThat(s.textVectors()).isEmpty();
        assertThat(s.imageVectors()).extracting(DocUpdate::docId).containsExactly("i"); // the image index has no rerank
        assertThat(s.dead()).singleElement().satisfies(d -> {
            assertThat(d.kind()).isEqualTo(ErrorKind.INVALID_FIELD);
            assertThat(d.message()).contains("corpus document t", "MaxSim", "inflow.retrieval.rerank.enabled",
                    "send the document as 'text'");
        });
        assertThat(s.textDeletes()).extracting(DocUpdate::raw).containsExactly(text, image);
        assertThat(s.imageDeletes()).extracting(DocUpdate::raw).containsExactly(text);

        // and the index itself refuses a single vector without token vectors when rerank is on
        RetrievalSettings rerank = new RetrievalSettings(8, 3, Metric.COSINE, Storage.FLOAT32, 16, 4,
                new RetrievalSettings.Rerank(3, TokenStorage.FLOAT32, 8));
        try (ShardHarness shard = ShardHarness.open(rerank, 0, 1, null)) {
            shard.corpus(DocUpdate.upsert("t", unit(8, 0), null, text));
            assertThat(shard.deadLetters()).singleElement().satisfies(d -> assertThat(d.message())
                    .contains("corpus document t", "MaxSim rerank needs token vectors"));
        }
    }

    private static QueryRow query(float[] v, long offset) {
        RawRecord r = new RawRecord("events.text", 0, offset, 1, null, new byte[] {1});
        EnrichedEvent e = new EnrichedEvent("q" + offset, "text", new SourceRef(r.topic(), r.partition(), r.offset(),
                r.timestamp()), new ModelRef(TEXT_MODEL, "1"), 1, false, null, null, null, List.of(), Map.of(), 1);
        return new QueryRow(v, null, e, r);
    }

    @Test
    void theIndexFindsAPrecomputedDocumentAndDeadLettersWrongDimensionsAndNonFiniteValues() throws Exception {
        float[] exact = {0.1f, 0.7f, -0.2f, 0.05f, 0f, 0.3f, -0.6f, 0.02f};
        RawRecord pre = corpus(0, CorpusRecord.embeddingUpsert("pre-1", exact, TEXT_MODEL, Map.of(), null));
        RawRecord shortOne = corpus(1, CorpusRecord.embeddingUpsert("short", unit(4, 0), TEXT_MODEL, Map.of(), null));
        RawRecord other = corpus(2, CorpusRecord.embeddingUpsert("other", unit(8, 0), TEXT_MODEL, Map.of(), null));
        Split s = split(new SplitCorpus(false, TEXT_MODEL, null, null, false),
                decode(List.of(pre, shortOne, other), new ArrayList<>()));
        assertThat(s.textVectors()).hasSize(3);
        try (ShardHarness shard = ShardHarness.open(TEXT, 0, 1, null)) {
            for (DocUpdate u : s.textVectors()) {
                shard.corpus(u);
            }
            // a float vector can only hold a non-finite value when built in code (the JSON reader refuses one)
            shard.corpus(DocUpdate.upsert("nan", new float[] {1, 0, 0, 0, 0, 0, Float.NaN, 0}, null,
                    new RawRecord("corpus", 0, 3, 1, null, new byte[] {1})));
            assertThat(shard.deadLetters()).hasSize(2).allSatisfy(d -> {
                assertThat(d.kind()).isEqualTo(ErrorKind.INVALID_FIELD);
                assertThat(d.stage()).isEqualTo(RetrievalCompute.STAGE);
            });
            assertThat(shard.deadLetters().get(0).message())
                    .isEqualTo("corpus document short: embedding has 4 values, the index holds 8");
            assertThat(shard.deadLetters().get(0).value()).isEqualTo(shortOne.value());
            assertThat(shard.deadLetters().get(1).message()).isEqualTo("corpus document nan: embedding[6] is NaN");

            shard.query(query(exact.clone(), 10));
            shard.flush();
            RetrievalAnswer a = MergeShardHits.merge(List.of(shard.hits().get(0)), 3);
            assertThat(a.docIds()).containsExactly("pre-1", "other");
            assertThat(a.scores()[0]).isCloseTo(1f, within(1e-5f));
            assertThat(a.documents()).isEqualTo(2);
        }
    }
}
