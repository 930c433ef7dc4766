package io.inflow.e2e;

import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.demo.SampleData;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The observability material in {@code deploy/} against a live system: the pipeline (real broker, MiniCluster, the
 * bundled sample) and a real Prometheus server scraping both metrics endpoints every second. Then every PromQL
 * expression of every dashboard panel and every rule of {@code inflow-alerts.rules.yml} goes through Prometheus's
 * HTTP API and must be valid and return at least one series.
 *
 * <p>What "returns a series" means for alerts: an alert is silent in a healthy run, so its expression is evaluated
 * with its comparisons made {@code bool} ({@code x > 0.05} becomes {@code x > bool 0.05}), which keeps the series
 * and yields 0 or 1. The expression as written must still be valid. Panels whose description starts with
 * "Planned" (the dashboards' planned row) and {@code inflow-planned.rules.yml} name metrics that no code emits yet:
 * they must be valid PromQL, and promtool checks the rule file, but they are not required to return series.
 *
 * <p>{@code -Dinflow.metrics.dump=DIR} also writes query_range data of the main panels over the run to DIR
 * (TSV), which {@code deploy/grafana/render-screenshots.sh} turns into the README's PNG.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(600)
class PrometheusLiveTest {

    private static final Duration OUTPUT_WAIT = Duration.ofMinutes(4);
    /** Grafana's variables in the dashboards, as the test evaluates them (1 s scrapes, a short run). */
    private static final String RATE_WINDOW = "1m";
    /** Scrape history before the checks: a 15 s-step subquery (lag growth) needs at least two points. */
    private static final Duration MIN_HISTORY = Duration.ofSeconds(40);
    private static final Path DEPLOY = Path.of("..", "deploy").toAbsolutePath().normalize();
    private static final Path LIVE_RULES = DEPLOY.resolve("prometheus/rules/inflow-alerts.rules.yml");
    private static final ObjectMapper JSON = new ObjectMapper();

    private PipelineUnderTest pipeline;
    private Process prometheus;
    private Path work;
    private String api;
    private final HttpClient http = HttpClient.newHttpClient();
    private long runStart;
    private long runEnd;

    @BeforeAll
    void runPipelineAndPrometheus() throws Exception {
        ExternalTools.requireOnPath("prometheus");
        ExternalTools.requireOnPath("promtool");
        work = Files.createTempDirectory("inflow-prometheus-");
        Configuration conf = new Configuration();
        conf.set(io.inflow.jobs.config.RetrievalOptions.ENABLED, true); // the index gauges' panel is live too
        conf.set(io.inflow.jobs.config.TopicOptions.ENABLED, true); // and the topic-tree panels (2 rebuilds)
        conf.set(io.inflow.jobs.config.ScorerOptions.SCORER, "spam-ham-minilm"); // and the scorer panels
        pipeline = PipelineUnderTest.start(conf, UnaryOperator.identity());
        int port = freePort();
        api = "http://127.0.0.1:" + port + "/api/v1/";
        Path config = work.resolve("prometheus.yml");
        Files.writeString(config, String.join("\n",
                "global:",
                "  scrape_interval: 1s",
                "  evaluation_interval: 1s",
                "rule_files:",
                "  - " + LIVE_RULES,
                "scrape_configs:",
                "  - job_name: flink",
                "    static_configs:",
                "      - targets: ['127.0.0.1:" + URI.create(pipeline.flink.flinkMetricsUrl()).getPort() + "']",
                "  - job_name: inflow",
                "    honor_labels: true",
                "    static_configs:",
                "      - targets: ['127.0.0.1:" + pipeline.flink.inflowMetricsPort() + "']",
                ""));
        prometheus = new ProcessBuilder("prometheus", "--config.file=" + config,
                "--storage.tsdb.path=" + work.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn").redirectErrorStream(true).redirectOutput(work.resolve("prometheus.log").toFile())
                .start();
        awaitReady();
        runStart = System.currentTimeMillis() / 1000;

        List<SampleData.Record> sample = SampleData.load().mixed();
        List<byte[][]> records = new ArrayList<>();
        for (SampleData.Record r : sample) {
            records.add(new byte[][] {PipelineUnderTest.utf8(r.key()), r.value()});
        }
        int good = (int) sample.stream().filter(r -> !r.malformed()).count();
        try (OutputAudit audit = pipeline.audit()) {
            pipeline.produce(records);
            assertThat(audit.awaitTotal(records.size(), OUTPUT_WAIT, a -> { }))
                    .as("all %d inputs come out (%s)", records.size(), audit.summary()).isTrue();
        }
        // Prometheus has the final counts, and a few seconds of the idle pipeline after them
        awaitValue("sum(inflow_records_out_total{operator=\"embed\",job=\"" + pipeline.jobName + "\"})", good);
        Thread.sleep(5_000);
        // at least MIN_HISTORY of scrapes, so that windowed functions (deriv over a subquery) have points
        long wait = runStart + MIN_HISTORY.toSeconds() - System.currentTimeMillis() / 1000;
        if (wait > 0) {
            Thread.sleep(wait * 1000);
        }
        runEnd = System.currentTimeMillis() / 1000;
    }

    @AfterAll
    void stop() throws Exception {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(20, TimeUnit.SECONDS)) {
                prometheus.destroyForcibly();
            }
        }
        if (pipeline != null) {
            pipeline.close();
        }
        if (work != null) {
            try (Stream<Path> files = Files.walk(work)) {
                files.sorted((a, b) -> b.compareTo(a)).forEach(f -> f.toFile().delete());
            }
        }
    }

    @Test
    void promtoolAcceptsTheRulesAndConfigurations() throws Exception {
        try (Stream<Path> rules = Files.list(DEPLOY.resolve("prometheus/rules"))) {
            List<String> cmd = new ArrayList<>(List.of("promtool", "check", "rules"));
            rules.filter(p -> p.toString().endsWith(".yml")).sorted().forEach(p -> cmd.add(p.toString()));
            assertThat(cmd).hasSizeGreaterThan(4);
            assertThat(run(cmd)).isEmpty();
        }
        assertThat(run(List.of("promtool", "check", "config",
                DEPLOY.resolve("prometheus/prometheus-local.yml").toString(),
                DEPLOY.resolve("prometheus/prometheus-cluster.yml").toString()))).isEmpty();
    }

    @Test
    void bothEndpointsAreScraped() throws Exception {
        JsonNode up = query("up");
        assertThat(up).hasSize(2);
        for (JsonNode s : up) {
            assertThat(s.at("/value/1").asText()).as("up of %s", s.get("metric")).isEqualTo("1");
        }
        assertThat(query("inflow_records_in_total{job=\"" + pipeline.jobName + "\",operator=\"decode\"}"))
                .as("honor_labels keeps Inflow's job label").isNotEmpty();
    }

    @Test
    void everyDashboardPanelReturnsSeries() throws Exception {
        Map<String, String> live = new LinkedHashMap<>();
        Map<String, String> planned = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(DEPLOY.resolve("grafana/dashboards"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                JsonNode d = JSON.readTree(f.toFile());
                assertThat(d.path("uid").asText()).as("uid of %s", f).isNotBlank();
                for (JsonNode panel : d.path("panels")) {
                    boolean isPlanned = panel.path("description").asText().startsWith("Planned");
                    for (JsonNode t : panel.path("targets")) {
                        String where = f.getFileName() + " / " + panel.path("title").asText() + " / "
                                + t.path("refId").asText();
                        (isPlanned ? planned : live).put(where, t.path("expr").asText());
                    }
                }
            }
        }
        assertThat(live).hasSizeGreaterThan(20);
        assertThat(planned).isNotEmpty();
        List<String> failures = new ArrayList<>();
        live.forEach((where, expr) -> check(where, grafana(expr), true, failures));
        planned.forEach((where, expr) -> check(where, grafana(expr), false, failures));
        assertThat(failures).isEmpty();
    }

    @Test
    void everyLiveRuleReturnsSeriesAndEvaluatesHealthy() throws Exception {
        JsonNode groups = get("rules").at("/data/groups");
        List<String> failures = new ArrayList<>();
        int rules = 0;
        for (JsonNode g : groups) {
            for (JsonNode r : g.path("rules")) {
                rules++;
                String where = g.path("name").asText() + " / " + r.path("name").asText();
                String expr = r.path("query").asText();
                if (!"ok".equals(r.path("health").asText())) {
                    failures.add(where + ": rule health " + r.path("health") + " " + r.path("lastError"));
                }
                if ("alerting".equals(r.path("type").asText())) {
                    check(where + " (as written)", expr, false, failures);
                    check(where + " (comparisons as bool)", booleanComparisons(expr), true, failures);
                } else {
                    check(where, expr, true, failures);
                    check(where + " (recorded series)", r.path("name").asText(), true, failures);
                }
            }
        }
        assertThat(rules).as("rules Prometheus loaded from %s", LIVE_RULES).isGreaterThanOrEqualTo(10);
        assertThat(failures).isEmpty();
    }

    @Test
    void comparisonsBecomeBoolOutsideSelectors() {
        assertThat(booleanComparisons("sum(rate(x{a!=\"b\",c=~\"d>e\"}[5m])) > 0.05 and on (job) (y == 0)"))
                .isEqualTo("sum(rate(x{a!=\"b\",c=~\"d>e\"}[5m])) > bool 0.05 and on (job) (y == bool 0)");
        assertThat(booleanComparisons("a >= bool 1")).isEqualTo("a >= bool 1");
    }

    /**
     * Writes query_range data of the README's main panels: to {@code -Dinflow.metrics.dump=DIR} for
     * {@code deploy/grafana/render-screenshots.sh}, else to the test's work directory. Either way every panel must
     * get data points, so the test never passes without having done anything.
     */
    @Test
    void dumpsMainPanels() throws Exception {
        String dir = System.getProperty("inflow.metrics.dump");
        Path out = dir == null || dir.isBlank() ? work.resolve("dump") : Path.of(dir);
        Files.createDirectories(out);
        String j = "job=\"" + pipeline.jobName + "\"";
        Map<String, Map<String, String>> panels = new LinkedHashMap<>();
        panels.put("throughput", Map.of(
                "records in", "sum(rate(inflow_records_in_total{operator=\"decode\"," + j + "}[4s]))",
                "enriched out", "sum(rate(inflow_records_out_total{operator=\"embed\"," + j + "}[4s]))",
                "dead letters", "sum(rate(inflow_dead_letters_total{" + j + "}[4s]))"));
        // the dashboard's Kafka lag panel: seconds behind while the source emits (pendingRecords stays 0 under back
        // pressure, as the source fetches far ahead; see the panel's description)
        panels.put("lag", Map.of(
                "seconds behind", "max(flink_taskmanager_job_task_operator_currentEmitEventTimeLag"
                        + " * (flink_taskmanager_job_task_operator_sourceIdleTime == bool 0)) / 1000",
                "pendingRecords", "sum(flink_taskmanager_job_task_operator_pendingRecords)"));
        panels.put("latency", Map.of(
                "compute p95", "histogram_quantile(0.95, sum by (le) (rate(inflow_compute_seconds_bucket{" + j
                        + "}[4s])))",
                "compute p50", "histogram_quantile(0.5, sum by (le) (rate(inflow_compute_seconds_bucket{" + j
                        + "}[4s])))",
                "batch wait p95", "histogram_quantile(0.95, sum by (le) (rate(inflow_batch_wait_seconds_bucket{"
                        + j + "}[4s])))"));
        panels.put("queue", Map.of(
                "batches in flight", "sum(inflow_batches_in_flight{" + j + "})",
                "batch size p50", "histogram_quantile(0.5, sum by (le) (rate(inflow_batch_size_records_bucket{"
                        + j + "}[4s])))"));
        panels.put("checkpoints", Map.of(
                "last checkpoint duration (ms)", "max(flink_jobmanager_job_lastCheckpointDuration >= 0)"));
        panels.put("deadletters", Map.of(
                "by reason", "sum by (reason) (inflow_dead_letters_total{" + j + "}) > 0"));
        List<String> empty = new ArrayList<>();
        for (var panel : panels.entrySet()) {
            int points = 0;
            try (Writer w = Files.newBufferedWriter(out.resolve(panel.getKey() + ".tsv"))) {
                for (var series : new java.util.TreeMap<>(panel.getValue()).entrySet()) {
                    JsonNode result = get("query_range?query=" + enc(series.getValue()) + "&start=" + runStart
                            + "&end=" + runEnd + "&step=1").at("/data/result");
                    for (JsonNode s : result) {
                        String label = s.path("metric").has("reason")
                                ? s.path("metric").path("reason").asText() : series.getKey();
                        w.write("# " + label + "\n");
                        for (JsonNode v : s.path("values")) {
                            double value = Double.parseDouble(v.get(1).asText());
                            points += Double.isFinite(value) ? 1 : 0;
                            w.write((v.get(0).asLong() - runStart) + "\t" + (Double.isNaN(value) ? "NaN" : value)
                                    + "\n");
                        }
                        w.write("\n\n");
                    }
                }
            }
            if (points == 0) {
                empty.add(panel.getKey());
            }
        }
        assertThat(empty).as("panels without a finite data point in %s", out).isEmpty();
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /** Grafana's variables as the test evaluates them: this run's job, a 1 m rate window, a 5 m range. */
    private String grafana(String expr) {
        return expr.replace("$__rate_interval", RATE_WINDOW).replace("$__range", "5m")
                .replace("$__interval", "15s").replace("\"$job\"", "\"" + pipeline.jobName + "\"");
    }

    private void check(String where, String expr, boolean mustReturnSeries, List<String> failures) {
        try {
            JsonNode r = get("query?query=" + enc(expr));
            if (!"success".equals(r.path("status").asText())) {
                failures.add(where + ": " + r.path("error").asText() + " in " + expr);
            } else if (mustReturnSeries && r.at("/data/result").isEmpty()) {
                failures.add(where + ": no series for " + expr);
            }
        } catch (Exception e) {
            failures.add(where + ": " + e + " for " + expr);
        }
    }

    /**
     * Makes every comparison operator outside label matchers, strings and range brackets a {@code bool}
     * comparison, so that an alert's expression keeps its series (0 or 1) when the alert is not firing.
     */
    static String booleanComparisons(String expr) {
        StringBuilder out = new StringBuilder();
        int braces = 0;
        int brackets = 0;
        boolean quoted = false;
        for (int i = 0; i < expr.length(); i++) {
            char c = expr.charAt(i);
            out.append(c);
            if (quoted) {
                if (c == '\\') {
                    out.append(expr.charAt(++i));
                } else if (c == '"') {
                    quoted = false;
                }
                continue;
            }
            switch (c) {
                case '"' -> quoted = true;
                case '{' -> braces++;
                case '}' -> braces--;
                case '[' -> brackets++;
                case ']' -> brackets--;
                case '>', '<', '=', '!' -> {
                    if (braces > 0 || brackets > 0) {
                        break;
                    }
                    String two = i + 1 < expr.length() ? expr.substring(i, i + 2) : "";
                    boolean isTwo = two.equals(">=") || two.equals("<=") || two.equals("==") || two.equals("!=");
                    boolean isOne = (c == '>' || c == '<') && !isTwo;
                    if (isTwo || isOne) {
                        if (isTwo) {
                            out.append(expr.charAt(++i));
                        }
                        String rest = expr.substring(i + 1).stripLeading();
                        if (!rest.startsWith("bool")) {
                            out.append(" bool");
                        }
                    }
                }
                default -> {
                }
            }
        }
        return out.toString();
    }

    private JsonNode query(String expr) throws Exception {
        JsonNode r = get("query?query=" + enc(expr));
        assertThat(r.path("status").asText()).as("%s: %s", expr, r.path("error")).isEqualTo("success");
        return r.at("/data/result");
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(api + path))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            return JSON.readTree(in);
        }
    }

    private void awaitReady() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!prometheus.isAlive()) {
                throw new AssertionError("prometheus exited: " + Files.readString(work.resolve("prometheus.log")));
            }
            try {
                if ("success".equals(get("status/buildinfo").path("status").asText())) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("prometheus not ready in 60 s: " + Files.readString(work.resolve("prometheus.log")));
    }

    private void awaitValue(String expr, double expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String last = "";
        while (System.nanoTime() < deadline) {
            JsonNode result = query(expr);
            last = result.toString();
            if (result.size() == 1 && Double.parseDouble(result.get(0).at("/value/1").asText()) == expected) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("Prometheus never saw " + expr + " == " + expected + " (last " + last + "); log: "
                + Files.readString(work.resolve("prometheus.log")));
    }

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return p.waitFor() == 0 ? "" : String.join(" ", cmd) + " failed:\n" + output;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
