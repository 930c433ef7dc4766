package io.inflow.e2e;

import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.demo.SampleData;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.RecordCodec;

import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * N records in, N records out: the bundled sample (1,200 texts, 12 malformed records) plus an oversize record, a
 * tombstone and a keyless text go through a real Kafka broker and the pipeline on a MiniCluster. Every input offset
 * must come out exactly once, in {@code enriched} or in {@code dlq} with its original bytes and the right reason.
 * The same run checks the Prometheus endpoint.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(600)
class NothingLostTest {

    /** Generous for a loaded 2-core CI machine; the run itself takes about 10 s. */
    private static final Duration OUTPUT_WAIT = Duration.ofMinutes(4);
    /** float32 sums of 384 squares: the norm of an L2-normalised vector is 1 within a few ulps. */
    private static final double UNIT_NORM_TOLERANCE = 1e-5;
    /** The issue's tolerance for the known MiniLM value (the JSON float round trip is exact). */
    private static final double CLASSIC_PAIR_TOLERANCE = 5e-4;

    private PipelineUnderTest pipeline;
    private OutputAudit audit;
    private final List<byte[][]> produced = new ArrayList<>();
    private List<RecordMetadata> landed;
    private final Map<ErrorKind, Integer> expectedKinds = new EnumMap<>(ErrorKind.class);
    private int expectedGood;

    @BeforeAll
    void runPipeline() throws Exception {
        for (SampleData.Record r : SampleData.load().mixed()) {
            produced.add(new byte[][] {PipelineUnderTest.utf8(r.key()), r.value()});
        }
        // the bundled malformed files: the kinds their README promises
        expectedKinds.put(ErrorKind.MALFORMED_JSON, 4);
        expectedKinds.put(ErrorKind.MISSING_FIELD, 1);
        expectedKinds.put(ErrorKind.INVALID_FIELD, 3);
        expectedKinds.put(ErrorKind.INVALID_UTF8, 1);
        expectedKinds.put(ErrorKind.UNKNOWN_TYPE, 1);
        expectedKinds.put(ErrorKind.UNSUPPORTED_VERSION, 1);
        expectedKinds.put(ErrorKind.EMPTY_RECORD, 1);
        // beyond the sample: a 1.1 MB record (limit 1 MiB), a tombstone (null value), a text without a key
        String big = "{\"type\":\"text\",\"version\":1,\"id\":\"big\",\"text\":\"" + "x".repeat(1_100_000) + "\"}";
        produced.add(new byte[][] {PipelineUnderTest.utf8("big"), PipelineUnderTest.utf8(big)});
        expectedKinds.merge(ErrorKind.OVERSIZE_RECORD, 1, Integer::sum);
        produced.add(new byte[][] {PipelineUnderTest.utf8("gone"), null});
        expectedKinds.merge(ErrorKind.EMPTY_RECORD, 1, Integer::sum);
        produced.add(new byte[][] {null, PipelineUnderTest.utf8(
                "{\"type\":\"text\",\"version\":1,\"id\":\"keyless\",\"text\":\"Kafka keys are optional.\"}")});
        // the classic pair whose MiniLM cosine is known (sentence-transformers: 0.7553)
        produced.add(new byte[][] {PipelineUnderTest.utf8("pair-a"), PipelineUnderTest.utf8(
                "{\"type\":\"text\",\"version\":1,\"id\":\"pair-a\",\"text\":\"A man is eating food.\"}")});
        produced.add(new byte[][] {PipelineUnderTest.utf8("pair-b"), PipelineUnderTest.utf8(
                "{\"type\":\"text\",\"version\":1,\"id\":\"pair-b\",\"text\":\"A man is eating a piece of"
                        + " bread.\"}")});
        int bad = expectedKinds.values().stream().mapToInt(Integer::intValue).sum();
        expectedGood = produced.size() - bad;

        pipeline = PipelineUnderTest.start(new Configuration(), UnaryOperator.identity());
        audit = pipeline.audit();
        landed = pipeline.produce(produced);
        assertThat(audit.awaitTotal(produced.size(), OUTPUT_WAIT, a -> { }))
                .as("all %d inputs produce an output within %s (%s)", produced.size(), OUTPUT_WAIT, audit.summary())
                .isTrue();
        // a little longer: a duplicate would arrive after the total was reached
        audit.poll(Duration.ofSeconds(3));
    }

    @AfterAll
    void stop() throws Exception {
        OutputChecks.stop(audit, pipeline);
    }

    @Test
    void everyInputOffsetComesOutExactlyOnce() {
        OutputChecks.everyInputExactlyOnce(audit, landed);
        assertThat(audit.enriched()).hasSize(expectedGood);
    }

    @Test
    void deadLettersKeepTheOriginalBytesAndTheReason() {
        Map<String, byte[][]> byOffset = new HashMap<>();
        for (int i = 0; i < landed.size(); i++) {
            RecordMetadata m = landed.get(i);
            byOffset.put(m.partition() + "@" + m.offset(), produced.get(i));
        }
        Map<ErrorKind, Integer> kinds = new EnumMap<>(ErrorKind.class);
        for (DeadLetterRecord d : audit.deadLetters()) {
            kinds.merge(d.kind(), 1, Integer::sum);
            byte[][] original = byOffset.get(d.source().partition() + "@" + d.source().offset());
            assertThat(original).as("dead letter points at a produced offset").isNotNull();
            OutputChecks.carriesOriginal(d, original[0], original[1]);
            assertThat(d.message()).isNotBlank();
            assertThat(d.stage()).isEqualTo("decode");
        }
        assertThat(kinds).isEqualTo(expectedKinds);
    }

    @Test
    void enrichedEventsCarryTokenCountsWithinTheLimit() {
        for (EnrichedEvent e : audit.enriched()) {
            assertThat(e.tokenCount()).as("token count of %s", e.id()).isBetween(3, 256);
            if (e.truncated()) {
                assertThat(e.tokenCount()).as("a truncated text fills the limit").isEqualTo(256);
            }
            assertThat(e.model().name()).isEqualTo("all-minilm-l6-v2");
        }
        assertThat(audit.enriched().stream().filter(EnrichedEvent::truncated).count())
                .as("the sample's long e-mails exceed 256 tokens").isPositive();
        assertThat(audit.enriched().stream().map(EnrichedEvent::id).distinct().count()).isEqualTo(expectedGood);
    }

    @Test
    void enrichedEventsCarryNormalisedMiniLmEmbeddings() {
        for (EnrichedEvent e : audit.enriched()) {
            assertThat(e.embeddingDim()).isEqualTo(384);
            assertThat(e.embedding()).hasSize(384);
            double norm = 0;
            for (float v : e.embedding()) {
                norm += v * v;
            }
            assertThat(Math.sqrt(norm)).as("L2 norm of %s", e.id()).isCloseTo(1.0, within(UNIT_NORM_TOLERANCE));
            assertThat(e.model().version()).isEqualTo("langchain4j-1.20.0-beta30/mean/l2");
        }
        float[] a = byId("pair-a").embedding();
        float[] b = byId("pair-b").embedding();
        double dot = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
        }
        assertThat(dot).as("cosine of the classic pair through the whole pipeline")
                .isCloseTo(0.7553, within(CLASSIC_PAIR_TOLERANCE));
    }

    private EnrichedEvent byId(String id) {
        return audit.enriched().stream().filter(e -> e.id().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void prometheusEndpointsServeThePipelineMetrics() throws Exception {
        String body = MetricsScrape.get(pipeline.flink.metricsUrl());
        String job = pipeline.jobName;
        int bad = produced.size() - expectedGood;
        assertThat(MetricsScrape.sum(body, job, "inflow_records_in_total", "operator", "decode"))
                .isEqualTo((double) produced.size());
        assertThat(MetricsScrape.sum(body, job, "inflow_records_out_total", "operator", "decode"))
                .isEqualTo((double) expectedGood);
        assertThat(MetricsScrape.sum(body, job, "inflow_records_in_total", "operator", "embed"))
                .isEqualTo((double) expectedGood);
        assertThat(MetricsScrape.sum(body, job, "inflow_records_out_total", "operator", "embed"))
                .isEqualTo((double) expectedGood);
        assertThat(MetricsScrape.sum(body, job, "inflow_dead_letters_total", "operator", "decode",
                "reason", "oversize_record"))
                .isEqualTo(1.0);
        assertThat(MetricsScrape.sum(body, job, "inflow_dead_letters_total", "operator", "decode",
                "reason", "malformed_json"))
                .isEqualTo(4.0);
        assertThat(MetricsScrape.sum(body, job, "inflow_dead_letters_total", "operator", "decode",
                "reason", "unknown_type"))
                .isEqualTo(1.0);
        assertThat(MetricsScrape.sum(body, job, "inflow_dead_letters_total", "operator", "decode"))
                .isEqualTo((double) bad);
        assertThat(MetricsScrape.sum(body, job, "inflow_batch_size_records_count", "operator", "embed"))
                .as("batches").isPositive();
        assertThat(MetricsScrape.sum(body, job, "inflow_batch_size_records_sum", "operator", "embed"))
                .isEqualTo((double) expectedGood);
        assertThat(MetricsScrape.sum(body, job, "inflow_truncated_records_total", "operator", "embed"))
                .isEqualTo((double) audit.enriched().stream().filter(EnrichedEvent::truncated).count());
        for (String histogram : List.of("inflow_batch_size_records", "inflow_batch_tokens",
                "inflow_batch_wait_seconds", "inflow_compute_seconds")) {
            assertThat(body).as(histogram).containsPattern(histogram + "_bucket\\{[^}]*le=\"\\+Inf\"");
        }
        assertThat(body).containsPattern("inflow_compute_seconds_count\\{backend=\"cpu-fast\",job=\""
                + pipeline.jobName + "\",modality=\"text\",model=\"all-minilm-l6-v2\",operator=\"embed\"}");
        assertThat(body).containsPattern("inflow_batches_in_flight\\{[^}]*operator=\"embed\"");
        assertThat(body).containsPattern("inflow_model_info\\{backend=\"cpu-fast\",job=\"" + pipeline.jobName
                + "\",model=\"all-minilm-l6-v2\",operator=\"embed\",version=\"langchain4j-1.20.0-beta30/mean/l2\"} 1");

        String flink = MetricsScrape.get(pipeline.flink.flinkMetricsUrl());
        assertThat(flink).as("Flink's reporter keeps Flink's own metrics: Kafka lag, checkpoints, restarts")
                .contains("flink_taskmanager_job_task_operator_pendingRecords{",
                        "flink_taskmanager_job_task_operator_currentEmitEventTimeLag{",
                        "flink_taskmanager_job_task_operator_sourceIdleTime{",
                        "flink_jobmanager_job_lastCheckpointDuration{", "flink_jobmanager_job_numRestarts{")
                .doesNotContain("_inflow_");
    }

    @Test
    void deadLettersAreReadableWithKcat() throws Exception {
        ExternalTools.requireOnPath("kcat");
        Process kcat = new ProcessBuilder("kcat", "-b", pipeline.kafka.bootstrapServers(), "-C",
                "-t", pipeline.settings.topics().deadLetter(), "-o", "beginning", "-e", "-q",
                "-X", "isolation.level=read_committed", "-f", "%s\\n").redirectErrorStream(false).start();
        List<String> lines = new String(kcat.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                .filter(l -> !l.isBlank()).toList();
        assertThat(kcat.waitFor()).as("kcat exit code").isZero();
        assertThat(lines).hasSize(produced.size() - expectedGood);
        for (String line : lines) {
            DeadLetterRecord d = RecordCodec.decodeDeadLetter(line.getBytes(StandardCharsets.UTF_8));
            assertThat(d.source().topic()).isEqualTo(pipeline.settings.topics().text());
        }
    }
}
