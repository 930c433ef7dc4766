package io.inflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.jobs.config.ImageOptions;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.jobs.config.RetrievalOptions;
import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.demo.SampleData;
import io.inflow.operators.embed.BatchOutput;
import io.inflow.operators.embed.EncoderCompute;
import io.inflow.schemas.CorpusRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RecordCodec;
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
import java.util.function.UnaryOperator;

/**
 * MaxSim rerank end to end: a real broker, the pipeline with {@code inflow.retrieval.rerank.enabled} on a MiniCluster
 * at parallelism 2 (two shards), a bundled per-token head, 60 real texts as the corpus. Every event's neighbours
 * must be the two-stage brute force over the same encoder's outputs: the best {@value #CANDIDATES} documents by
 * cosine of the pooled vectors, reordered by MaxSim of the query's token vectors against each document's (float32
 * token storage, so the stored values are the computed ones). Negative control: for some queries the reranked order
 * differs from the single-vector order, so a pipeline that skipped the rerank would fail.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(600)
class RerankEndToEndTest {

    private static final Duration WAIT = Duration.ofMinutes(4);
    private static final int DOCS = 60;
    private static final int K = 5;
    private static final int CANDIDATES = 15;
    private static final String HEAD = "glu-residual";
    /**
     * The job encodes texts in padded batches, the test one text at a time: vectors differ in float summation order
     * (about 1e-6 per value); a MaxSim score sums up to ~30 cosines, so scores agree within 1e-4 and a near tie
     * (brute-force scores closer than that) may swap.
     */
    private static final double SCORE_TOLERANCE = 1e-4;

    private PipelineUnderTest pipeline;
    private OutputAudit audit;
    private final Map<String, String> docs = new LinkedHashMap<>();
    private List<String> texts;
    private TextTokenizer tokenizer;
    private EncoderCompute encoder;
    private BufferAllocator allocator;
    private int probes;

    @BeforeAll
    void start() throws Exception {
        Configuration conf = new Configuration();
        conf.set(ImageOptions.ENABLED, false);
        conf.set(RetrievalOptions.ENABLED, true);
        conf.set(RetrievalOptions.K, K);
        conf.set(RetrievalOptions.STORAGE, "float32");
        conf.set(RetrievalOptions.RERANK_ENABLED, true);
        conf.set(RetrievalOptions.RERANK_CANDIDATES, CANDIDATES);
        conf.set(RetrievalOptions.RERANK_HEAD, HEAD);
        conf.set(RetrievalOptions.RERANK_STORAGE, "float32");
        pipeline = PipelineUnderTest.start(conf, UnaryOperator.identity());
        audit = pipeline.audit();

        Configuration client = new Configuration(conf);
        client.set(io.inflow.connectors.kafka.KafkaOptions.BOOTSTRAP_SERVERS, pipeline.kafka.bootstrapServers());
        PipelineSettings settings = PipelineSettings.from(client);
        tokenizer = TextTokenizer.load(settings.model(), settings.maxTokens());
        encoder = new EncoderCompute(((EncoderCompute) settings.compute()).spec(), settings.retrieval().tokenHead());
        encoder.open();
        allocator = new RootAllocator();

        texts = new ArrayList<>();
        for (SampleData.Record r : SampleData.load().mixed()) {
            String text = r.malformed() ? null : text(r.value());
            if (text != null) {
                texts.add(text);
            }
        }
        List<byte[][]> corpus = new ArrayList<>();
        for (int i = 0; i < DOCS; i++) {
            String id = "d" + i;
            docs.put(id, texts.get(i));
            corpus.add(new byte[][] {PipelineUnderTest.utf8(id), RecordCodec.encode(new CorpusRecord(id,
                    CorpusRecord.Op.UPSERT, texts.get(i), Map.of(), null))});
        }
        pipeline.produce(pipeline.settings.topics().corpus(), corpus);
        long deadline = System.nanoTime() + WAIT.toNanos();
        long seen = -1;
        while (seen != DOCS && System.nanoTime() < deadline) {
            seen = ask(List.of(texts.get(0))).get(0).index().documents();
        }
        assertThat(seen).as("documents indexed").isEqualTo(DOCS);
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {encoder::close, tokenizer, allocator, audit, pipeline}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void neighboursAreTheTwoStageBruteForce() throws Exception {
        List<String> queries = new ArrayList<>(texts.subList(DOCS, DOCS + 16));
        List<EnrichedEvent> answers = ask(queries);
        int reordered = 0;
        for (int i = 0; i < queries.size(); i++) {
            List<String> single = assertTwoStage(answers.get(i), queries.get(i));
            List<String> got = answers.get(i).neighbours().stream().map(EnrichedEvent.Neighbour::docId).toList();
            if (!got.equals(single)) {
                reordered++;
            }
        }
        assertThat(reordered).as("queries whose reranked neighbours differ from the single-vector ones")
                .isPositive();
        assertThat(audit.duplicates()).isEmpty();
        assertThat(audit.deadLetters()).isEmpty();
    }

    /** Checks one answer against both stages by brute force; returns the single-vector top k (for the control). */
    private List<String> assertTwoStage(EnrichedEvent answer, String queryText) throws Exception {
        Encoded q = encode(queryText);
        record Scored(String id, double score) {
        }
        Comparator<Scored> order = Comparator.comparingDouble((Scored s) -> -s.score).thenComparing(Scored::id);
        List<Scored> first = new ArrayList<>();
        for (Map.Entry<String, String> d : docs.entrySet()) {
            first.add(new Scored(d.getKey(), OutputChecks.cosine(q.pooled, encode(d.getValue()).pooled)));
        }
        first.sort(order);
        List<Scored> second = new ArrayList<>();
        for (Scored s : first.subList(0, CANDIDATES)) {
            second.add(new Scored(s.id(), maxSim(q, encode(docs.get(s.id())))));
        }
        second.sort(order);
        NeighbourChecks.assertRanking(answer, second.stream().map(Scored::id).toList(),
                second.stream().map(Scored::score).toList(), K, SCORE_TOLERANCE);
        return first.stream().limit(K).map(Scored::id).toList();
    }

    private record Encoded(float[] pooled, float[] tokens, int dim) {
    }

    private static double maxSim(Encoded q, Encoded d) {
        double sum = 0;
        for (int i = 0; i < q.tokens.length / q.dim; i++) {
            double best = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < d.tokens.length / d.dim; t++) {
                double dot = 0;
                for (int j = 0; j < q.dim; j++) {
                    dot += (double) q.tokens[i * q.dim + j] * d.tokens[t * d.dim + j];
                }
                best = Math.max(best, dot);
            }
            sum += best;
        }
        return sum;
    }

    private final Map<String, Encoded> cache = new java.util.HashMap<>();

    /** The encoder (with the job's token head) on one text alone. */
    private Encoded encode(String text) throws Exception {
        Encoded cached = cache.get(text);
        if (cached != null) {
            return cached;
        }
        Tokenized t = tokenizer.encode(text);
        try (TokenBatch b = new TokenBatch(allocator, t.ids().length, 1)) {
            b.append(t.ids(), t.truncated());
            BatchOutput out = encoder.compute(b);
            Encoded e = new Encoded(out.row(0), out.tokenRow(0), out.tokenDim());
            cache.put(text, e);
            return e;
        }
    }

    private List<EnrichedEvent> ask(List<String> queryTexts) throws Exception {
        List<byte[][]> events = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (String t : queryTexts) {
            String id = "q" + (probes++);
            ids.add(id);
            events.add(new byte[][] {PipelineUnderTest.utf8(id),
                    RecordCodec.encode(new TextEvent(id, t, null, null, Map.of()))});
        }
        int before = audit.enriched().size();
        pipeline.produce(events);
        return NeighbourChecks.await(audit, before, ids, WAIT);
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
