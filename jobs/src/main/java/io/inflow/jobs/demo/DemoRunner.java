package io.inflow.jobs.demo;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.jobs.InflowPipeline;
import io.inflow.jobs.config.ImageOptions;
import io.inflow.jobs.config.RetrievalOptions;
import io.inflow.jobs.config.TopicOptions;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;
import io.inflow.jobs.embedded.LocalFlink;
import io.inflow.jobs.recovery.ResumableJob;
import io.inflow.jobs.recovery.StateDirectory;
import io.inflow.jobs.recovery.StopSignal;
import io.inflow.jobs.recovery.StopWithSavepoint;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RecordCodec;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The README's first command: a real Kafka broker (KRaft, in this JVM, loopback only), the pipeline on a local
 * Flink MiniCluster, the bundled samples produced into {@code events.text} and {@code events.image} (texts,
 * Fashion-MNIST images inline and as {@code file:} URIs, malformed records and broken images), progress while they
 * flow, then a sample of the enriched and dead-lettered records, the metrics endpoint, and a clean shutdown.
 *
 * <p>{@code new DemoRunner(System.out).run(new DemoRunner.Options(false, null, Duration.ofMinutes(5), conf));}
 */
public final class DemoRunner {

    /** Partitions of each demo topic: two lets the two sample producers' records spread over both source readers. */
    public static final int DEMO_PARTITIONS = 2;
    /** The demo's topic trees: a rebuild every 200 events (six text trees, one image tree), on 5 PCA components. */
    static final int DEMO_REBUILD_EVERY = 200;
    static final int DEMO_PCA_COMPONENTS = 5;

    /**
     * What the demo does. With a {@code dataDir} the broker's data, the job's checkpoints and savepoints
     * ({@code flink-state}) and the {@code file:} images ({@code images}) live there, so a demo that crashed or was
     * stopped resumes where it was when run again with the same directory ({@code fresh}: without the old job
     * state); without one everything is temporary and a new demo starts from scratch.
     */
    public record Options(boolean keepRunning, Path dataDir, Duration timeout, Configuration flinkConfig,
            boolean fresh) {
        public Options(boolean keepRunning, Path dataDir, Duration timeout, Configuration flinkConfig) {
            this(keepRunning, dataDir, timeout, flinkConfig, false);
        }
    }

    /** The job's state directory of a demo with {@code --data-dir}: tied to the broker data beside it. */
    public static StateDirectory stateDirectory(Path dataDir) {
        return StateDirectory.at(dataDir.resolve("flink-state"));
    }

    private final PrintStream out;

    public DemoRunner(PrintStream out) {
        this.out = out;
    }

    /** Runs the demo; returns a process exit code (0 when every sample record came out exactly once). */
    public int run(Options options) throws Exception {
        if (options.fresh() && options.dataDir() == null) {
            throw new IllegalArgumentException("--fresh needs --data-dir: a demo without one always starts fresh");
        }
        return runDemo(options);
    }

    private int runDemo(Options options) throws Exception {
        long t0 = System.nanoTime();
        say("Inflow demo: Kafka -> Flink (decode, tokenize / decode pixels, Arrow micro-batches, compute) -> Kafka");
        say("starting a Kafka 4.2 broker (KRaft) on 127.0.0.1 ...");
        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(options.dataDir())) {
            say("  broker up at %s (data in %s)", kafka.bootstrapServers(), kafka.dataDir());
            Configuration conf = new Configuration(options.flinkConfig());
            conf.set(KafkaOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
            if (!conf.contains(CheckpointingOptions.CHECKPOINTING_INTERVAL)) {
                // exactly-once output becomes visible at each checkpoint: short intervals keep the demo lively
                conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(2));
            }
            if (!conf.contains(CoreOptions.DEFAULT_PARALLELISM)) {
                conf.set(CoreOptions.DEFAULT_PARALLELISM, DEMO_PARTITIONS);
            }
            if (!conf.contains(RetrievalOptions.ENABLED)) {
                conf.set(RetrievalOptions.ENABLED, true); // the demo shows retrieval over its bundled corpus
            }
            if (!conf.contains(TopicOptions.ENABLED)) {
                conf.set(TopicOptions.ENABLED, true); // and the topic tree of its sample
            }
            if (!conf.contains(TopicOptions.REBUILD_EVERY)) {
                conf.set(TopicOptions.REBUILD_EVERY, DEMO_REBUILD_EVERY); // a few trees over the 1,200 sample texts
            }
            if (!conf.contains(io.inflow.jobs.config.ScorerOptions.SCORER)) {
                // and the spam/ham scorer on every text (float32: it reads the job's own MiniLM embeddings)
                conf.set(io.inflow.jobs.config.ScorerOptions.SCORER, "spam-ham-minilm");
            }
            if (!conf.contains(TopicOptions.PCA_COMPONENTS)) {
                conf.set(TopicOptions.PCA_COMPONENTS, DEMO_PCA_COMPONENTS);
            }
            Path imageRoot = imageRoot(conf, options.dataDir());
            PipelineSettings settings = PipelineSettings.from(conf);
            TopicAdmin.ensureTopics(settings.kafka(), DEMO_PARTITIONS, (short) 1);
            TopicAdmin.checkOutputLimits(settings.kafka());
            List<String> inputTopics = settings.imagesEnabled()
                    ? List.of(settings.kafka().topics().text(), settings.kafka().topics().image())
                    : List.of(settings.kafka().topics().text());
            long alreadyThere = InputCount.records(kafka.bootstrapServers(), inputTopics);
            say("  topics: %s, %s (input), %s, %s (output), %s, %s", settings.kafka().topics().text(),
                    settings.kafka().topics().image(), settings.kafka().topics().enriched(),
                    settings.kafka().topics().deadLetter(), settings.kafka().topics().corpus(),
                    settings.kafka().topics().topicTrees());

            try (ResumableJob state = options.dataDir() == null ? null
                    : ResumableJob.prepare(stateDirectory(options.dataDir()), conf, options.fresh(), out)) {
                return runJob(options, conf, settings, kafka, imageRoot, inputTopics, alreadyThere, state, t0);
            }
        }
    }

    private int runJob(Options options, Configuration conf, PipelineSettings settings, EmbeddedKafkaBroker kafka,
            Path imageRoot, List<String> inputTopics, long alreadyThere, ResumableJob state, long t0)
            throws Exception {
        LocalFlink flink = LocalFlink.withFreePorts(conf);
        StreamExecutionEnvironment env = flink.environment();
        InflowPipeline.build(env, flink.configuration());
        say("starting the job on a local Flink cluster (%s, delivery %s) ...", settings.model().modelName(),
                settings.kafka().deliveryGuarantee());
        JobClient job = env.executeAsync("inflow-demo");
        if (state != null) {
            state.started(job, flink.webUiUrl());
        }
        say("  job %s running; Flink web UI %s", job.getJobID(), flink.webUiUrl());
        say("  metrics (Prometheus): Inflow %s, Flink %s", flink.metricsUrl(), flink.flinkMetricsUrl());

        SampleData sample = SampleData.load();
        List<SampleData.Record> texts = sample.mixed();
        SampleImages images = SampleImages.load();
        List<SampleData.Record> imageRecords = settings.imagesEnabled() ? images.records(imageRoot) : List.of();
        try (OutputAudit audit = new OutputAudit(kafka.bootstrapServers(), settings.kafka().topics().enriched(),
                settings.kafka().topics().deadLetter())) {
            List<SampleData.Record> corpus = settings.retrievalEnabled() ? SampleData.corpus() : List.of();
            if (settings.retrievalEnabled() && alreadyThere == 0) {
                produce(kafka.bootstrapServers(), settings.kafka().topics().corpus(), corpus);
                say("produced %d WordNet noun synsets to %s; waiting until the index holds them (a checkpoint after"
                        + " the last one) ...", corpus.size(), settings.kafka().topics().corpus());
                long t1 = System.nanoTime();
                boolean loaded = CorpusProgress.awaitApplied(kafka.bootstrapServers(),
                        settings.kafka().topics().corpus(), InflowPipeline.corpusGroupId(settings), options.timeout());
                say("  %s in %.1f s", loaded ? "index loaded" : "index NOT loaded (timed out)",
                        (System.nanoTime() - t1) / 1e9);
            }
            if (alreadyThere > 0) {
                say("the input topics already hold %d records (data in %s): not producing the sample again;"
                        + " waiting until every one of them is accounted for", alreadyThere, kafka.dataDir());
            } else {
                produce(kafka.bootstrapServers(), settings.kafka().topics().text(), texts);
                say("produced %d records to %s (%d text events, %d malformed)", texts.size(),
                        settings.kafka().topics().text(), sample.goodCount(), sample.malformedCount());
            }
            if (settings.imagesEnabled() && alreadyThere == 0) {
                produce(kafka.bootstrapServers(), settings.kafka().topics().image(), imageRecords);
                say("produced %d records to %s (%d inline PNGs, %d file: URIs under %s, %d broken images)",
                        imageRecords.size(), settings.kafka().topics().image(), images.inlineCount(),
                        images.fileCount(), imageRoot, images.brokenCount());
            }
            int expected = (int) InputCount.records(kafka.bootstrapServers(), inputTopics);
            boolean complete = audit.awaitTotal(expected, options.timeout(),
                    a -> say("  progress: %s of %d", a.summary(), expected));
            printResults(audit, expected);
            if (settings.retrievalEnabled()) {
                printNeighbours(audit, texts, corpus, settings.retrieval().tokenHead());
            }
            if (io.inflow.jobs.config.ScorerSettings.configured(conf)) {
                java.util.Map<String, String> textById = new java.util.HashMap<>();
                for (SampleData.Record r : texts) {
                    if (!r.malformed() && r.key() != null) {
                        textById.put(r.key(), fieldOf(r.value(), "text"));
                    }
                }
                new ScorePrinter(out).print(audit.enriched(), textById);
            }
            if (settings.topicsEnabled()) {
                new TopicTreePrinter(out).print(kafka.bootstrapServers(), settings.kafka().topics().topicTrees(),
                        audit);
            }
            printMetrics(flink.metricsUrl());
            int rc = complete && audit.duplicates().isEmpty() ? 0 : 1;
            if (!complete) {
                say("TIMED OUT after %s: %d of %d records came out", options.timeout(), audit.total(),
                        expected);
            }
            if (options.keepRunning()) {
                say("keeping everything running: produce to %s at %s; Ctrl-C stops%s", settings.kafka().topics()
                        .text(), kafka.bootstrapServers(), state == null ? ""
                        : " with a savepoint (kill -9 and run the same command again: it resumes)");
                StopSignal stop = StopSignal.install(out);
                if (state != null) {
                    int stopped = state.awaitEnd(job, stop, out);
                    say("broker stopping; done in %.1f s", (System.nanoTime() - t0) / 1e9);
                    return stopped == 0 ? rc : stopped;
                }
                CompletableFuture.anyOf(job.getJobExecutionResult(), stop.requested()).exceptionally(e -> null)
                        .join();
            }
            say("stopping the job and the broker ...");
            if (state != null && !job.getJobExecutionResult().isDone()) {
                say("  stopped with savepoint %s", StopWithSavepoint.viaClient(job,
                        state.directory().savepoints(), Duration.ofSeconds(60)));
            } else if (!job.getJobExecutionResult().isDone()) {
                job.cancel().get(30, TimeUnit.SECONDS);
            }
            say("done in %.1f s", (System.nanoTime() - t0) / 1e9);
            return rc;
        }
    }

    /** Produces {@code records} to {@code topic} (idempotent, acks=all) and flushes; also used by {@code ./inflow sql}. */
    public static void produce(String bootstrap, String topic, List<SampleData.Record> records) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", bootstrap);
        p.setProperty("acks", "all");
        p.setProperty("enable.idempotence", "true");
        p.setProperty("linger.ms", "5");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (SampleData.Record r : records) {
                byte[] key = r.key() == null ? null : r.key().getBytes(StandardCharsets.UTF_8);
                producer.send(new ProducerRecord<>(topic, key, r.value()));
            }
            producer.flush();
        }
    }

    private void printResults(OutputAudit audit, int expected) {
        say("");
        List<EnrichedEvent> texts = audit.enriched().stream()
                .filter(e -> EnrichedEvent.INPUT_TEXT.equals(e.inputType())).toList();
        List<EnrichedEvent> images = audit.enriched().stream()
                .filter(e -> EnrichedEvent.INPUT_IMAGE.equals(e.inputType())).toList();
        say("== enriched texts (%d), first 5 ==", texts.size());
        texts.stream().limit(5).forEach(e -> say("  %-13s %s-%d@%-4d tokens=%-3d truncated=%-5s %s",
                e.id(), e.source().topic(), e.source().partition(), e.source().offset(), e.tokenCount(),
                e.truncated(), embeddingPreview(e)));
        texts.stream().findFirst().ifPresent(e -> say("  one of them as JSON: %s", abbreviate(json(e), 400)));
        long truncated = texts.stream().filter(EnrichedEvent::truncated).count();
        say("  ... %d of them truncated to the token limit", truncated);
        if (!images.isEmpty()) {
            say("");
            say("== enriched images (%d), first 5: top classes (true label) ==", images.size());
            images.stream().limit(5).forEach(e -> say("  %-22s %s-%d@%-4d %-50s (%s) %s", e.id(),
                    e.source().topic(), e.source().partition(), e.source().offset(), topClasses(e),
                    e.attributes().getOrDefault("label", "?"), embeddingPreview(e)));
            images.stream().findFirst().ifPresent(e -> say("  one of them as JSON: %s", abbreviate(json(e), 400)));
            long labelled = images.stream().filter(e -> e.attributes().containsKey("label")).count();
            long right = images.stream().filter(e -> !e.scores().isEmpty()
                    && e.scores().get(0).label().equals(e.attributes().get("label"))).count();
            say("  top-1 matches the true label on %d of %d labelled images (%.1f%%; the model scores 88.48%% on"
                    + " all 10,000 t10k images)", right, labelled, labelled == 0 ? 0.0 : 100.0 * right / labelled);
        }
        say("");
        say("== dead-lettered (%d) ==", audit.deadLetters().size());
        for (DeadLetterRecord d : audit.deadLetters()) {
            say("  %-20s %s-%d@%d  %s", d.kind().wireName(), d.source().topic(), d.source().partition(),
                    d.source().offset(), abbreviate(d.message(), 110));
        }
        say("");
        say("every input accounted for: %s (%d in, %d out, %d duplicates)",
                audit.total() == expected && audit.duplicates().isEmpty() ? "yes" : "NO", expected, audit.total(),
                audit.duplicates().size());
    }

    /** Three events with their nearest corpus documents (text previews from the sample and the corpus). */
    private void printNeighbours(OutputAudit audit, List<SampleData.Record> texts, List<SampleData.Record> corpus,
            io.inflow.operators.embed.TokenHeadSpec rerankHead) {
        java.util.Map<String, String> eventText = new java.util.HashMap<>();
        for (SampleData.Record r : texts) {
            if (!r.malformed() && r.key() != null) {
                eventText.put(r.key(), fieldOf(r.value(), "text"));
            }
        }
        java.util.Map<String, String> docText = new java.util.HashMap<>();
        for (SampleData.Record r : corpus) {
            docText.put(r.key(), fieldOf(r.value(), "text"));
        }
        List<EnrichedEvent> answered = audit.enriched().stream()
                .filter(e -> !e.neighbours().isEmpty() && eventText.containsKey(e.id())).toList();
        say("");
        say("== neighbours: %d events answered from the corpus (%s), 3 of them ==", answered.size(),
                answered.isEmpty() ? "none" : answered.get(0).index().metric()
                        + (rerankHead == null ? "" : " candidates reranked by MaxSim (" + rerankHead.describe()
                                + " head; the score sums a cosine per query token)") + ", "
                        + answered.get(answered.size() - 1).index().documents() + " documents in "
                        + answered.get(answered.size() - 1).index().shards().size() + " shards");
        answered.stream().filter(e -> e.id().hashCode() % 7 == 0).limit(3).forEach(e -> {
            say("  %s: %s", e.id(), abbreviate(eventText.get(e.id()), 110));
            e.neighbours().stream().limit(3).forEach(n -> say("     %d. %.3f %-13s %s", n.rank(), n.score(),
                    n.docId(), abbreviate(docText.getOrDefault(n.docId(), "?"), 80)));
        });
    }

    private static String fieldOf(byte[] json, String field) {
        try {
            var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
            return node.path(field).asText("");
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private void printMetrics(String url) {
        say("");
        say("== metrics at %s (summed over series; histograms: batches and mean) ==", url);
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            Map<String, Double> totals = new TreeMap<>();
            Map<String, double[]> histograms = new TreeMap<>();
            for (String line : r.body().lines().filter(l -> l.startsWith("inflow_")).toList()) {
                PromSample p = PromSample.parse(line);
                String name = p.name();
                if (name.endsWith("_total")) {
                    String key = name + "{operator=" + p.labels().get("operator")
                            + (p.labels().containsKey("reason") ? ",reason=" + p.labels().get("reason") : "") + "}";
                    totals.merge(key, p.value(), Double::sum);
                } else if (name.endsWith("_sum") || name.endsWith("_count")) {
                    String base = name.substring(0, name.lastIndexOf('_'));
                    histograms.computeIfAbsent(base, k -> new double[2])[name.endsWith("_sum") ? 0 : 1] += p.value();
                } else if (name.equals("inflow_model_info")) {
                    say("  %s{model=%s,version=%s,backend=%s}", name, p.labels().get("model"),
                            p.labels().get("version"), p.labels().get("backend"));
                }
            }
            totals.forEach((k, v) -> {
                if (v > 0) {
                    say("  %-62s %8.0f", k, v);
                }
            });
            histograms.forEach((k, v) -> say("  %-62s %8.0f batches, mean %.4g", k, v[1],
                    v[1] == 0 ? 0 : v[0] / v[1]));
        } catch (Exception e) {
            say("  (could not read metrics: %s)", e.toString());
        }
    }

    private static String topClasses(EnrichedEvent e) {
        StringBuilder b = new StringBuilder();
        for (EnrichedEvent.Score s : e.scores()) {
            b.append(b.length() == 0 ? "" : ", ").append(String.format("%s %.2f", s.label(), s.score()));
        }
        return b.toString();
    }

    /**
     * The directory {@code file:} image URIs resolve under: {@code inflow.image.root} when set, else a temporary
     * directory deleted when the JVM exits (set into the configuration so the job reads it).
     */
    private static Path imageRoot(Configuration conf, Path dataDir) throws IOException {
        Optional<String> configured = conf.getOptional(ImageOptions.ROOT);
        if (configured.isPresent()) {
            return Path.of(configured.get());
        }
        if (dataDir != null) {
            // a resumed demo replays file: URIs that were produced by an earlier run: keep them beside the data
            Path root = Files.createDirectories(dataDir.resolve("images")).toAbsolutePath();
            conf.set(ImageOptions.ROOT, root.toString());
            return root;
        }
        Path root = Files.createTempDirectory("inflow-demo-images-");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root), "inflow-demo-images-cleanup"));
        conf.set(ImageOptions.ROOT, root.toString());
        return root;
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temporary directory
        }
    }

    private static String json(EnrichedEvent e) {
        return new String(RecordCodec.encode(e), StandardCharsets.UTF_8);
    }

    private static String embeddingPreview(EnrichedEvent e) {
        if (e.embedding() == null) {
            return "model=" + e.model().name() + " (" + e.model().version() + ", no embedding)";
        }
        float[] v = e.embedding();
        return String.format("embedding[%d]=[%.4f, %.4f, %.4f, ...] model=%s", v.length, v[0], v[1], v[2],
                e.model().name());
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 3) + "...";
    }

    private void say(String format, Object... args) {
        out.println(args.length == 0 ? format : String.format(format, args));
        out.flush();
    }
}
