package io.inflow.e2e.bench;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.jobs.config.PipelineOptions;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;
import io.inflow.operators.batch.BatchingOptions;

import org.apache.flink.configuration.Configuration;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * Throughput and latency of the whole text pipeline (Kafka -> Flink -> Kafka, MiniLM on the CPU backend) on this
 * machine, next to its peer measured in the same JVM: the encoder alone on the same texts ({@link EncoderAlone}).
 * Not a test: run it through the {@code bench} profile (e2e-tests/README.md). Every run is verified before its
 * figures count: each input offset appears exactly once in {@code enriched} ({@link OutputCheck}).
 * <ol>
 *   <li>encoder alone (before the pipeline runs and again right after it; the ratio uses the mean of both, as this
 *       machine's speed drifts over minutes): the sample's texts tokenized, packed in full per-bucket batches,
 *       encoded in {@code rounds}
 *       timed rounds after a warm-up round;</li>
 *   <li>pipeline, MiniLM, exactly-once: {@code events} texts preloaded into Kafka, then the job starts; throughput =
 *       outputs visible to a read_committed consumer per second over the steady interval: from the later of 15% of
 *       the outputs and {@code warmup} seconds after the first (at the latest at half of them; the JIT still compiles Flink's and Kafka's paths
 *       before that: the compiler threads took 12% of the CPU 30 s into a run), until 95% (the tail excluded); the
 *       range of three consecutive windows shows how even it was; batch statistics, the encoder's busy share, its
 *       time per 1,000 tokens and checkpoint durations (Flink REST) over the same interval;</li>
 *   <li>pipeline, {@code inflow.text.compute=TOKENS}: the same with {@code tokensEvents} texts;</li>
 *   <li>latency at half the measured MiniLM rate, exactly-once and at-least-once: texts produced at a fixed rate for
 *       {@code warmup + seconds}; produce-to-visible p50/p99 of those produced after the warm-up, next to max-wait +
 *       mean batch compute time and the checkpoint interval.</li>
 * </ol>
 * Arguments ({@code key=value}): {@code events} (8000), {@code tokensEvents} (200000), {@code seconds} (30),
 * {@code warmup} (30), {@code rounds} (3), {@code checkpoint} (1s), {@code parallelism} (2), {@code phases}
 * ({@code encoder,embed,tokens,latency}), and any {@code -Dkey=value} for every pipeline run (e.g.
 * {@code -Dinflow.batch.max-in-flight=4}, {@code -Dmetrics.reporter.prom.port=9249} to scrape it with Prometheus).
 *
 * <p>{@code mvn -B -q -pl e2e-tests -am -Pbench -DskipTests process-test-classes -Dbench.args="events=8000"}
 */
public final class PipelineBenchmark {

    static final double ENCODER_GOAL = 0.85;
    static final double TOKENS_GOAL = 20_000;
    /** Steady-state window: from this share of the outputs ... */
    static final double FROM = 0.15;
    /** ... to this one. */
    static final double TO = 0.95;

    private int events = 8000;
    private int tokensEvents = 200_000;
    private int seconds = 30;
    private int warmup = 30;
    private int rounds = 3;
    private Duration checkpoint = Duration.ofSeconds(1);
    private int parallelism = 2;
    private String phases = "encoder,embed,tokens,latency";
    private double latencyRate = Double.NaN;
    private final Configuration extra = new Configuration();
    private final List<String> report = new ArrayList<>();
    private int runs;

    public static void main(String[] args) throws Exception {
        PipelineBenchmark b = new PipelineBenchmark();
        for (String a : args) {
            if (a.startsWith("-D")) {
                String[] kv = a.substring(2).split("=", 2);
                b.extra.setString(kv[0], kv[1]);
                continue;
            }
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "events" -> b.events = Integer.parseInt(kv[1]);
                case "tokensEvents" -> b.tokensEvents = Integer.parseInt(kv[1]);
                case "seconds" -> b.seconds = Integer.parseInt(kv[1]);
                case "warmup" -> b.warmup = Integer.parseInt(kv[1]);
                case "rounds" -> b.rounds = Integer.parseInt(kv[1]);
                case "checkpoint" -> b.checkpoint = org.apache.flink.util.TimeUtils.parseDuration(kv[1]);
                case "parallelism" -> b.parallelism = Integer.parseInt(kv[1]);
                case "phases" -> b.phases = kv[1];
                case "latencyRate" -> b.latencyRate = Double.parseDouble(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a + " (events=, tokensEvents=,"
                        + " seconds=, warmup=, rounds=, checkpoint=, parallelism=, phases=, latencyRate=, -Dkey=value)");
            }
        }
        int status = 0;
        try {
            b.run();
        } catch (Throwable e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status); // Flink and Kafka leave non-daemon threads behind, also after a failure
    }

    private void run() throws Exception {
        BenchTexts texts = BenchTexts.load();
        Configuration base = pipelineConf("");
        PipelineSettings settings = PipelineSettings.from(withBootstrap(base, "127.0.0.1:9"));
        int threads = base.get(PipelineOptions.COMPUTE_THREADS);
        line("Inflow pipeline benchmark: %d cores visible, Java %s, max heap %d MiB; compute threads %d, parallelism"
                + " %d (= partitions), batching %s, checkpoint interval %s", Runtime.getRuntime().availableProcessors(),
                Runtime.version(), Runtime.getRuntime().maxMemory() >> 20, threads, parallelism, settings.batching(),
                checkpoint);
        line("The machine is shared (other builds run): figures move between runs; repeat and compare ratios.");
        line("Texts: the bundled sample's %d real texts, repeated with unique ids.", texts.distinct());

        double encoderRate = Double.NaN;
        if (phases.contains("encoder")) {
            EncoderAlone.Result r = EncoderAlone.measure(settings, texts, rounds);
            encoderRate = Stats.median(r.eventsPerSecond());
            line("");
            line("encoder alone (%s, %d threads, %d batches per round, mean %.1f ms per batch, %.1f ms per 1,000"
                    + " tokens computed): %s events/s over %d rounds; tokenizer alone: %.0f events/s on 1 thread,"
                    + " %.0f on 2 (the ceiling of compute=TOKENS)",
                    settings.model().modelName(), threads, r.batches(), r.meanBatchMs(), r.msPerThousandTokens(),
                    Stats.medianRange(r.eventsPerSecond(), "%.1f"), rounds, r.tokenizerEventsPerSecond(),
                    r.tokenizerTwoThreads());
        }
        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(null)) {
            String bootstrap = kafka.bootstrapServers();
            Throughput embed = null;
            if (phases.contains("embed")) {
                embed = throughput(bootstrap, texts, "EMBED", events);
                line("");
                embed.print(this, "pipeline, MiniLM, exactly-once");
                if (!Double.isNaN(encoderRate)) {
                    // the machine's speed drifts over minutes: the encoder alone again, right after the pipeline,
                    // and the ratio against the mean of both measurements
                    EncoderAlone.Result after = EncoderAlone.measure(settings, texts, rounds);
                    double afterRate = Stats.median(after.eventsPerSecond());
                    double mean = (encoderRate + afterRate) / 2;
                    line("  encoder alone again after the pipeline: %s events/s (%.1f ms per 1,000 tokens); mean of"
                            + " before and after %.1f", Stats.medianRange(after.eventsPerSecond(), "%.1f"),
                            after.msPerThousandTokens(), mean);
                    line("  => pipeline / encoder alone: %.0f%% (goal >= %.0f%%: %s)", 100 * embed.median() / mean,
                            100 * ENCODER_GOAL, embed.median() >= ENCODER_GOAL * mean ? "met" : "NOT met");
                }
            }
            if (phases.contains("tokens")) {
                Throughput tokens = throughput(bootstrap, texts, "TOKENS", tokensEvents);
                line("");
                tokens.print(this, "pipeline, compute=TOKENS, exactly-once");
                line("  => goal >= %.0f events/s on this machine: %s", TOKENS_GOAL,
                        tokens.median() >= TOKENS_GOAL ? "met" : "NOT met");
            }
            if (phases.contains("latency")) {
                double rate = !Double.isNaN(latencyRate) ? latencyRate : embed != null ? embed.median() / 2 : 50;
                line("");
                line("latency at %.1f events/s (%s), produced for %d s, the last %d s measured:", rate,
                        !Double.isNaN(latencyRate) ? "latencyRate=" : embed != null ? "half the measured MiniLM pipeline rate"
                                : "no embed phase: fixed 50/s",
                        warmup + seconds, seconds);
                latency(bootstrap, texts, rate, "exactly-once");
                latency(bootstrap, texts, rate, "at-least-once");
            }
        }
        System.out.println();
        System.out.println("==== summary ====");
        report.forEach(System.out::println);
    }

    void line(String format, Object... args) {
        String s = String.format(format, args);
        System.out.println(s);
        report.add(s);
    }

    private Configuration pipelineConf(String compute) {
        Configuration c = new Configuration();
        if (!compute.isEmpty()) {
            c.setString(PipelineOptions.TEXT_COMPUTE.key(), compute);
        }
        c.addAll(extra);
        return c;
    }

    private static Configuration withBootstrap(Configuration c, String bootstrap) {
        Configuration out = new Configuration(c);
        out.set(KafkaOptions.BOOTSTRAP_SERVERS, bootstrap);
        out.setString("inflow.image.enabled", "false");
        return out;
    }

    /** Steady-state throughput of one run over a preloaded backlog of {@code n} texts. */
    private Throughput throughput(String bootstrap, BenchTexts texts, String compute, int n) throws Exception {
        String name = "b" + (++runs) + "-" + compute.toLowerCase(java.util.Locale.ROOT);
        Throughput t = new Throughput(n);
        try (BenchPipeline p = BenchPipeline.create(bootstrap, name, parallelism, checkpoint,
                pipelineConf(compute))) {
            long p0 = System.nanoTime();
            BenchProducer.preload(bootstrap, p.textTopic(), texts, 0, n);
            System.out.printf("[%s] preloaded %d texts in %.1f s%n", name, n, (System.nanoTime() - p0) / 1e9);
            boolean probe = compute.equals("EMBED");
            try (VisibleOutputs v = VisibleOutputs.start(bootstrap, p.settings.topics().enriched(),
                    p.settings.topics().deadLetter());
                    LagSampler lag = LagSampler.start(p, () -> n - v.count())) {
                p.start(probe ? c -> new EncoderProbe(name, c) : UnaryOperator.identity());
                long deadline = System.nanoTime() + Duration.ofMinutes(15).toNanos();
                long nextReport = 0;
                long firstVisibleMs = 0;
                while (System.nanoTime() < deadline) {
                    long c = v.count();
                    if (firstVisibleMs == 0 && c > 0) {
                        firstVisibleMs = System.currentTimeMillis();
                    }
                    // steady state: past the first 15% and past the warm-up (JIT) after the first output, or at
                    // half of the outputs when the whole run is shorter than the warm-up (tokens only)
                    if (t.fromMs == 0 && c >= FROM * n && firstVisibleMs > 0
                            && (System.currentTimeMillis() - firstVisibleMs >= warmup * 1000L || c >= n / 2)) {
                        t.fromMs = System.currentTimeMillis();
                        t.statsFrom = p.batchStats();
                        t.probeFrom = probe ? snapshot(name) : null;
                    }
                    if (t.toMs == 0 && c >= TO * n) {
                        t.toMs = System.currentTimeMillis();
                        t.statsTo = p.batchStats();
                        t.probeTo = probe ? snapshot(name) : null;
                    }
                    if (c >= n) {
                        break;
                    }
                    if (System.nanoTime() > nextReport) {
                        System.out.printf("[%s] %d of %d visible%n", name, c, n);
                        nextReport = System.nanoTime() + 5_000_000_000L;
                    }
                    Thread.sleep(20);
                }
                if (v.count() < n) {
                    throw new IllegalStateException(name + ": only " + v.count() + " of " + n + " outputs after 15 min");
                }
                t.timeline = v.timeline();
                t.checkpoints = CheckpointStats.fetch(p.restUrl(), p.jobId(), t.fromMs, t.toMs);
                t.lag = lag.describe();
            }
            t.check = OutputCheck.everyInputOnce(bootstrap, p.textTopic(), p.settings.topics().enriched(),
                    p.settings.topics().deadLetter());
            if (!t.check.ok()) {
                throw new IllegalStateException(name + ": output check failed, timing not valid: " + t.check);
            }
        }
        return t;
    }

    private static long[] snapshot(String run) {
        EncoderProbe.Counters c = EncoderProbe.counters(run);
        return new long[] {c.batches.sum(), c.rows.sum(), c.fullBatches.sum(), c.busyNanos.sum(),
                c.lockWaitNanos.sum(), System.nanoTime(), c.trimmedTokens.sum()};
    }

    /** One throughput run's observations. */
    static final class Throughput {
        final int n;
        long fromMs;
        long toMs;
        BenchPipeline.BatchStats statsFrom;
        BenchPipeline.BatchStats statsTo;
        long[] probeFrom;
        long[] probeTo;
        List<long[]> timeline;
        CheckpointStats checkpoints;
        OutputCheck.Result check;
        List<String> lag;
        private double[] windows;

        Throughput(int n) {
            this.n = n;
        }

        /** The timeline points of the steady interval: from {@code fromMs} until 95% of the outputs. */
        private List<long[]> steady() {
            return timeline.stream().filter(p -> p[0] >= fromMs && p[1] <= TO * n).toList();
        }

        /** Events/s over the whole steady interval (first to last point in it). */
        double rate() {
            List<long[]> steady = steady();
            if (steady.size() < 2) {
                return Double.NaN;
            }
            long[] a = steady.get(0);
            long[] b = steady.get(steady.size() - 1);
            return 1e3 * (b[1] - a[1]) / Math.max(1, b[0] - a[0]);
        }

        /** Rates of three consecutive windows of the steady interval (their spread shows how even it was). */
        double[] windows() {
            if (windows == null) {
                List<long[]> steady = steady();
                if (steady.size() < 4) {
                    steady = timeline;
                }
                windows = new double[3];
                for (int w = 0; w < 3; w++) {
                    long[] a = steady.get(w * (steady.size() - 1) / 3);
                    long[] b = steady.get((w + 1) * (steady.size() - 1) / 3);
                    windows[w] = 1e3 * (b[1] - a[1]) / Math.max(1, b[0] - a[0]);
                }
            }
            return windows;
        }

        /** The headline figure: the rate over the steady interval. */
        double median() {
            return rate();
        }

        void print(PipelineBenchmark out, String title) {
            out.line("%s: %.1f events/s over %.1f s at steady state (3 windows: %s; %d texts; %s)",
                    title, rate(), (toMs - fromMs) / 1e3, Stats.medianRange(windows(), "%.1f"), n, check);
            BenchPipeline.BatchStats s = statsTo.minus(statsFrom);
            out.line("  batches: %.0f, mean %.1f rows, mean batch wait %.0f ms (inflow_batch_wait_seconds), mean"
                    + " compute %.0f ms (inflow_compute_seconds)", s.batches(), s.meanRows(), s.meanWaitMs(),
                    s.meanComputeMs());
            if (probeFrom != null) {
                double wall = (probeTo[5] - probeFrom[5]) / 1e9;
                long batches = probeTo[0] - probeFrom[0];
                out.line("  encoder (probe): %d batches, %.1f%% full, busy %.0f%% of wall time, mean %.0f ms inside"
                        + " the encoder per batch, mean %.0f ms waiting for the other subtask's batch; %.1f ms per"
                        + " 1,000 tokens computed (rows x longest row)", batches,
                        100.0 * (probeTo[2] - probeFrom[2]) / Math.max(1, batches),
                        100 * (probeTo[3] - probeFrom[3]) / 1e9 / wall,
                        (probeTo[3] - probeFrom[3]) / 1e6 / Math.max(1, batches),
                        (probeTo[4] - probeFrom[4]) / 1e6 / Math.max(1, batches),
                        (probeTo[3] - probeFrom[3]) / 1e3 / Math.max(1, probeTo[6] - probeFrom[6]));
            }
            out.line("  checkpoints under this load (Flink REST): %s", checkpoints.describe().get(0));
            checkpoints.describe().stream().skip(1).forEach(l -> out.line("  %s", l));
            lag.forEach(l -> out.line("  %s", l));
        }
    }

    private void latency(String bootstrap, BenchTexts texts, double rate, String delivery) throws Exception {
        String name = "b" + (++runs) + "-latency-" + delivery;
        Configuration conf = pipelineConf("");
        conf.set(KafkaOptions.DELIVERY_GUARANTEE, delivery);
        int count = (int) Math.round(rate * (warmup + seconds));
        try (BenchPipeline p = BenchPipeline.create(bootstrap, name, parallelism, checkpoint, conf);
                VisibleOutputs v = VisibleOutputs.start(bootstrap, p.settings.topics().enriched(),
                        p.settings.topics().deadLetter())) {
            p.start(c -> new EncoderProbe(name, c));
            // the job is running once its first outputs are visible: only then start the clock
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread producer = BenchProducer.paced(bootstrap, p.textTopic(), texts, 0, count, rate, failure);
            long start = System.currentTimeMillis();
            Thread.sleep(warmup * 1000L);
            v.measureLatencyFrom = System.currentTimeMillis();
            BenchPipeline.BatchStats from = p.batchStats();
            producer.join();
            BenchPipeline.BatchStats to = p.batchStats();
            if (failure.get() != null) {
                throw new IllegalStateException("producing failed", failure.get());
            }
            if (!v.awaitCount(count, Duration.ofMinutes(3))) {
                throw new IllegalStateException(name + ": " + v.count() + " of " + count + " visible");
            }
            OutputCheck.Result check = OutputCheck.everyInputOnce(bootstrap, p.textTopic(),
                    p.settings.topics().enriched(), p.settings.topics().deadLetter());
            if (!check.ok()) {
                throw new IllegalStateException(name + ": output check failed: " + check);
            }
            long[] lat = v.latencies();
            BenchPipeline.BatchStats s = to.minus(from);
            double maxWait = conf.getOptional(BatchingOptions.MAX_WAIT).orElse(BatchingOptions.MAX_WAIT
                    .defaultValue()).toMillis();
            line("  %-13s p50 %d ms, p99 %d ms, max %d ms over %d events (%s; produced over %.0f s); next to max-wait"
                    + " %.0f ms + mean batch compute %.0f ms = %.0f ms%s", delivery, Stats.percentile(lat, 50),
                    Stats.percentile(lat, 99), Stats.percentile(lat, 100), lat.length, check,
                    (System.currentTimeMillis() - start) / 1e3, maxWait, s.meanComputeMs(),
                    maxWait + s.meanComputeMs(), delivery.equals("exactly-once")
                            ? String.format(" (+ up to one checkpoint interval, %d ms: output is visible at checkpoints)",
                                    checkpoint.toMillis()) : "");
            line("  %-13s batches %.0f, mean %.1f rows, mean batch wait %.0f ms, mean compute %.0f ms", "",
                    s.batches(), s.meanRows(), s.meanWaitMs(), s.meanComputeMs());
        }
    }
}
