package io.inflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.jobs.config.RetrievalOptions;
import io.inflow.jobs.config.ImageOptions;
import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.demo.SampleData;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.schemas.CorpusRecord;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RecordCodec;
import io.inflow.schemas.SourcedText;
import io.inflow.schemas.TextEvent;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dense retrieval end to end: a real broker, the pipeline with {@code inflow.retrieval.enabled} on a MiniCluster at
 * parallelism 2 (two index shards), a corpus of 80 real texts from the bundled sample. Every text event must come out
 * once with the neighbours a brute force over the same encoder's vectors gives (ids in order; scores within a
 * tolerance), and the index state they came from; bad corpus records are dead-lettered; an upsert, a JSON delete,
 * a Kafka tombstone and an upsert of a precomputed embedding sent with kcat (as a user would) change the next answers
 * (a precomputed embedding of an unknown model or of the wrong dimension is dead-lettered); after a task failure the job restarts
 * from its last checkpoint and answers the same (the index restored from keyed state), every input still exactly
 * once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(600)
class RetrievalEndToEndTest {

    private static final Duration WAIT = Duration.ofMinutes(4);
    private static final int DOCS = 80;
    private static final int K = 5;
    /**
     * The job encodes texts in batches padded to the batch's longest row, the test one at a time: the vectors differ
     * in float summation order only (about 1e-6); scores are compared within this, and a near tie (two brute-force
     * scores closer than it) may swap.
     */
    private static final double SCORE_TOLERANCE = 1e-4;

    private PipelineUnderTest pipeline;
    private OutputAudit audit;
    private final Map<String, String> docs = new LinkedHashMap<>();
    private List<String> sampleTexts;
    private TextTokenizer tokenizer;
    private TextBatchCompute encoder;
    private BufferAllocator allocator;
    private String textModel;
    private int probes;

    @BeforeAll
    void start() throws Exception {
        Configuration conf = new Configuration();
        conf.set(ImageOptions.ENABLED, false);
        conf.set(RetrievalOptions.ENABLED, true);
        conf.set(RetrievalOptions.K, K);
        conf.set(RetrievalOptions.STORAGE, "float32");
        conf.setString("restart-strategy.type", "fixed-delay");
        conf.setString("restart-strategy.fixed-delay.attempts", "3");
        conf.setString("restart-strategy.fixed-delay.delay", "500 ms");
        FailOnce.armed.set(true);
        pipeline = PipelineUnderTest.start(conf, texts -> texts.map(new FailOnce())
                .returns(org.apache.flink.api.common.typeinfo.TypeInformation.of(SourcedText.class)).name("fail once"));
        audit = pipeline.audit();

        PipelineSettings settings = PipelineSettings.from(withBootstrap(conf));
        tokenizer = TextTokenizer.load(settings.model(), settings.maxTokens());
        textModel = settings.model().modelName();
        encoder = settings.compute();
        encoder.open();
        allocator = new RootAllocator();

        sampleTexts = new ArrayList<>();
        for (SampleData.Record r : SampleData.load().mixed()) {
            if (!r.malformed()) {
                String text = text(r.value());
                if (text != null) {
                    sampleTexts.add(text);
                }
            }
        }
        List<byte[][]> corpus = new ArrayList<>();
        for (int i = 0; i < DOCS; i++) {
            String id = "d" + i;
            docs.put(id, sampleTexts.get(i));
            corpus.add(new byte[][] {PipelineUnderTest.utf8(id), corpusUpsert(id, sampleTexts.get(i))});
        }
        // bad corpus records: a key that differs from doc_id, and JSON that is not a corpus record
        corpus.add(new byte[][] {PipelineUnderTest.utf8("other-key"), corpusUpsert("d999", "a text")});
        corpus.add(new byte[][] {PipelineUnderTest.utf8("d998"), PipelineUnderTest.utf8("{\"not\":\"corpus\"}")});
        pipeline.produce(pipeline.settings.topics().corpus(), corpus);
        awaitIndexed(DOCS);
    }

    private Configuration withBootstrap(Configuration conf) {
        Configuration c = new Configuration(conf);
        c.set(io.inflow.connectors.kafka.KafkaOptions.BOOTSTRAP_SERVERS, pipeline.kafka.bootstrapServers());
        return c;
    }

    @AfterAll
    void stop() throws Exception {
        if (encoder != null) {
            encoder.close();
        }
        if (tokenizer != null) {
            tokenizer.close();
        }
        if (allocator != null) {
            allocator.close();
        }
        if (audit != null) {
            audit.close();
        }
        if (pipeline != null) {
            pipeline.close();
        }
    }

    @Test
    void everyEventGetsTheBruteForceNeighboursAndKcatChangesTheNextAnswers() throws Exception {
        // queries: 10 texts that are documents (their own document must come first) and 10 that are not
        List<String> queryTexts = new ArrayList<>(sampleTexts.subList(0, 10));
        queryTexts.addAll(sampleTexts.subList(DOCS, DOCS + 10));
        List<EnrichedEvent> answers = ask(queryTexts);
        for (int i = 0; i < answers.size(); i++) {
            assertNeighbours(answers.get(i), queryTexts.get(i));
            assertThat(answers.get(i).index().documents()).isEqualTo(DOCS);
            assertThat(answers.get(i).index().shards()).hasSize(PipelineUnderTest.PARTITIONS);
        }
        for (int i = 0; i < 10; i++) {
            assertThat(answers.get(i).neighbours().get(0).docId()).as("a document's own text finds it first")
                    .isEqualTo("d" + i);
        }
        List<DeadLetterRecord> corpusLetters = audit.deadLetters().stream()
                .filter(d -> d.source().topic().equals(pipeline.settings.topics().corpus())).toList();
        assertThat(corpusLetters).extracting(d -> d.kind().wireName())
                .containsExactlyInAnyOrder("invalid_field", "missing_field");

        // kcat, as a user: d3 now holds query 12's text, d5 is deleted by JSON, d7 by a tombstone
        String bootstrap = pipeline.kafka.bootstrapServers();
        String corpus = pipeline.settings.topics().corpus();
        String newText = queryTexts.get(12);
        ExternalTools.kcatProduce(bootstrap, corpus, "d3", new String(corpusUpsert("d3", newText),
                java.nio.charset.StandardCharsets.UTF_8));
        ExternalTools.kcatProduce(bootstrap, corpus, "d5", new String(RecordCodec.encode(
                new CorpusRecord("d5", CorpusRecord.Op.DELETE, null, Map.of(), null)),
                java.nio.charset.StandardCharsets.UTF_8));
        ExternalTools.kcatTombstone(bootstrap, corpus, "d7");
        // a precomputed embedding (the encoder's own vector of a text no document holds) indexed as "pre-1" without
        // encoding; one of an unknown model and one of the wrong dimension are dead-lettered
        String preText = sampleTexts.get(DOCS + 5);
        float[] preVector = embed(preText);
        ExternalTools.kcatProduce(bootstrap, corpus, "pre-1", new String(RecordCodec.encode(
                CorpusRecord.embeddingUpsert("pre-1", preVector, textModel, Map.of(), null)),
                java.nio.charset.StandardCharsets.UTF_8));
        ExternalTools.kcatProduce(bootstrap, corpus, "pre-unknown", new String(RecordCodec.encode(
                CorpusRecord.embeddingUpsert("pre-unknown", preVector, "text-embedding-3-small", Map.of(), null)),
                java.nio.charset.StandardCharsets.UTF_8));
        ExternalTools.kcatProduce(bootstrap, corpus, "pre-short", new String(RecordCodec.encode(
                CorpusRecord.embeddingUpsert("pre-short", java.util.Arrays.copyOf(preVector, 16), textModel,
                        Map.of(), null)), java.nio.charset.StandardCharsets.UTF_8));
        docs.put("d3", newText);
        docs.remove("d5");
        docs.remove("d7");
        docs.put("pre-1", preText); // its vector is embed(preText), what the brute force scores
        awaitIndexed(DOCS - 1);     // + pre-1, - d5, - d7
        List<String> afterTexts = List.of(newText, sampleTexts.get(5), sampleTexts.get(7), preText);
        List<EnrichedEvent> after = ask(afterTexts);
        assertThat(after.get(0).neighbours().get(0).docId()).isEqualTo("d3");
        assertThat(after.get(0).neighbours().get(0).score()).isGreaterThan(1 - SCORE_TOLERANCE);
        assertThat(after.get(3).neighbours().get(0).docId()).as("the precomputed document").isEqualTo("pre-1");
        assertThat(after.get(3).neighbours().get(0).score()).isGreaterThan(1 - SCORE_TOLERANCE);
        for (int i = 0; i < after.size(); i++) {
            assertNeighbours(after.get(i), afterTexts.get(i));
            assertThat(after.get(i).neighbours()).extracting(EnrichedEvent.Neighbour::docId)
                    .doesNotContain("d5", "d7", "pre-unknown", "pre-short");
        }
        List<DeadLetterRecord> precomputedLetters = awaitCorpusLetters(4).stream()
                .filter(d -> d.key() != null && new String(d.key(), java.nio.charset.StandardCharsets.UTF_8)
                        .startsWith("pre-")).toList();
        assertThat(precomputedLetters).hasSize(2).allSatisfy(d -> {
            assertThat(d.kind().wireName()).isEqualTo("invalid_field");
            assertThat(d.stage()).isEqualTo("retrieval");
        });
        assertThat(precomputedLetters).extracting(DeadLetterRecord::message).anySatisfy(m -> assertThat(m)
                .contains("corpus document pre-unknown", "unknown model 'text-embedding-3-small'", textModel));
        assertThat(precomputedLetters).extracting(DeadLetterRecord::message).anySatisfy(m -> assertThat(m)
                .isEqualTo("corpus document pre-short: embedding has 16 values, the index holds "
                        + preVector.length));
        assertThat(audit.duplicates()).isEmpty();

        // a task failure: Flink restarts the job from the last checkpoint; the index comes back from keyed state
        // (the corpus source resumes after the documents, so nothing is read again) and answers the same
        List<String> again = List.of(newText, sampleTexts.get(0), sampleTexts.get(DOCS + 1));
        List<EnrichedEvent> beforeFailure = ask(again);
        assertThat(pipeline.restarts()).isZero();
        ask(List.of(FailOnce.TRIGGER_TEXT)); // fails the first attempt; answered after the restart
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long restarts = 0;
        while (restarts == 0 && System.nanoTime() < deadline) { // the web server refreshes metrics every few s
            restarts = pipeline.restarts();
            Thread.sleep(1000);
        }
        assertThat(restarts).as("the job restarted once").isEqualTo(1);
        List<EnrichedEvent> afterRestart = ask(again);
        for (int i = 0; i < again.size(); i++) {
            assertThat(afterRestart.get(i).neighbours()).as("query %d after the restart", i)
                    .isEqualTo(beforeFailure.get(i).neighbours());
            assertThat(afterRestart.get(i).index().documents()).isEqualTo(DOCS - 1);
        }
        audit.poll(Duration.ofSeconds(3));
        assertThat(audit.duplicates()).as("exactly once across the restart").isEmpty();
    }

    /** Fails the job once, on the event whose text is {@link #TRIGGER_TEXT} (MiniCluster: one JVM, one flag). */
    static final class FailOnce implements org.apache.flink.api.common.functions.MapFunction<SourcedText, SourcedText> {
        static final String TRIGGER_TEXT = "fail the job once here";
        static final java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean();

        @Override
        public SourcedText map(SourcedText t) {
            if (TRIGGER_TEXT.equals(t.event().text()) && armed.compareAndSet(true, false)) {
                throw new IllegalStateException("injected task failure (RetrievalEndToEndTest)");
            }
            return t;
        }
    }

    /** Produces texts as events and returns their enriched events in the same order. */
    private List<EnrichedEvent> ask(List<String> texts) throws Exception {
        List<byte[][]> events = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (String t : texts) {
            String id = "q" + (probes++);
            ids.add(id);
            events.add(new byte[][] {PipelineUnderTest.utf8(id), textEvent(id, t)});
        }
        int before = audit.enriched().size();
        pipeline.produce(events);
        return NeighbourChecks.await(audit, before, ids, WAIT);
    }

    /** The dead letters of corpus records, once there are {@code count} of them. */
    private List<DeadLetterRecord> awaitCorpusLetters(int count) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<DeadLetterRecord> letters = List.of();
        while (System.nanoTime() < deadline) {
            letters = audit.deadLetters().stream()
                    .filter(d -> d.source().topic().equals(pipeline.settings.topics().corpus())).toList();
            if (letters.size() >= count) {
                return letters;
            }
            audit.poll(Duration.ofMillis(500));
        }
        throw new AssertionError("expected " + count + " corpus dead letters, saw " + letters.size() + ": "
                + letters.stream().map(DeadLetterRecord::message).toList());
    }

    /** Asks a probe until its answer was computed against {@code documents} documents. */
    private void awaitIndexed(int documents) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        long seen = -1;
        while (System.nanoTime() < deadline) {
            EnrichedEvent probe = ask(List.of(sampleTexts.get(0))).get(0);
            seen = probe.index().documents();
            if (seen == documents) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the index never reached " + documents + " documents (last seen " + seen + ")");
    }

    private void assertNeighbours(EnrichedEvent answer, String queryText) throws Exception {
        float[] q = embed(queryText);
        record Scored(String id, double score) {
        }
        List<Scored> all = new ArrayList<>();
        for (Map.Entry<String, String> d : docs.entrySet()) {
            all.add(new Scored(d.getKey(), OutputChecks.cosine(q, embed(d.getValue()))));
        }
        all.sort(Comparator.comparingDouble((Scored s) -> -s.score).thenComparing(Scored::id));
        NeighbourChecks.assertRanking(answer, all.stream().map(Scored::id).toList(),
                all.stream().map(Scored::score).toList(), K, SCORE_TOLERANCE);
    }

    private final Map<String, float[]> cache = new java.util.HashMap<>();

    /** The encoder on one text alone (a batch of one row). */
    private float[] embed(String text) throws Exception {
        float[] cached = cache.get(text);
        if (cached != null) {
            return cached;
        }
        Tokenized t = tokenizer.encode(text);
        try (TokenBatch b = new TokenBatch(allocator, t.ids().length, 1)) {
            b.append(t.ids(), t.truncated());
            float[] v = encoder.compute(b).row(0);
            cache.put(text, v);
            return v;
        }
    }

    private static byte[] corpusUpsert(String id, String text) {
        return RecordCodec.encode(new CorpusRecord(id, CorpusRecord.Op.UPSERT, text, Map.of(), null));
    }

    private static byte[] textEvent(String id, String text) {
        return RecordCodec.encode(new TextEvent(id, text, null, null, Map.of()));
    }

    private static String text(byte[] eventJson) {
        try {
            var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(eventJson);
            return node.hasNonNull("text") && node.get("text").isTextual() ? node.get("text").asText() : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
