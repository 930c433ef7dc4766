package io.inflow.e2e;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.jobs.InflowPipeline;
import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;
import io.inflow.jobs.embedded.LocalFlink;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A broker restart under a running pipeline (MiniCluster, compute=TOKENS): the broker stops cleanly and starts again
 * on the same data directory and port while events stream in at 200/s; the job's sources, exactly-once sinks and
 * transactions ride it out without a restart of the job being needed, output resumes, and every input comes out
 * exactly once in {@code enriched} + {@code dlq} (read_committed). Prints how long output took to resume.
 */
@Timeout(600)
class BrokerRestartTest {

    private static final Logger LOG = LoggerFactory.getLogger(BrokerRestartTest.class);
    private static final Duration WAIT = Duration.ofMinutes(3);

    @Test
    void aBrokerRestartMidStreamLosesAndDuplicatesNothing(@TempDir Path dir) throws Exception {
        int events = 8_000;
        int holdAt = 7_000;
        EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(dir.resolve("kafka"));
        JobClient job = null;
        try {
            Configuration conf = OutputChecks.namedPipeline(kafka.bootstrapServers(), "br");
            conf.setString("inflow.text.compute", "TOKENS");
            conf.setString("execution.checkpointing.interval", "1s");
            conf.setString("parallelism.default", "2");
            conf.setString("restart-strategy.type", "fixed-delay");
            conf.setString("restart-strategy.fixed-delay.attempts", "100");
            conf.setString("restart-strategy.fixed-delay.delay", "1s");
            KafkaSettings settings = KafkaOptions.settings(conf);
            TopicAdmin.ensureTopics(settings, PipelineUnderTest.PARTITIONS, (short) 1);
            LocalFlink flink = LocalFlink.withFreePorts(conf);
            StreamExecutionEnvironment env = flink.environment();
            InflowPipeline.build(env, flink.configuration());
            job = env.executeAsync("inflow-broker-restart");

            try (StreamProducer stream = StreamProducer.start(kafka.bootstrapServers(), settings.topics().text(),
                    "br", events, 200, holdAt);
                    OutputAudit audit = new OutputAudit(kafka.bootstrapServers(), settings.topics().enriched(),
                            settings.topics().deadLetter())) {
                awaitOutput(audit, 1_500);
                assertThat(stream.sent()).as("the restart lands mid-stream").isLessThan(holdAt);

                long stoppedAt = System.nanoTime();
                int sentBefore = stream.sent();
                kafka.close();
                kafka = EmbeddedKafkaBroker.start(dir.resolve("kafka"));
                double down = (System.nanoTime() - stoppedAt) / 1e9;
                // outputs never outnumber inputs: this many means inputs produced after the restart came out too
                awaitOutput(audit, sentBefore + 200);
                assertThat(stream.sent()).as("still mid-stream when output resumed").isLessThan(holdAt);
                String resumed = String.format(Locale.ROOT, "broker restart: down %.1f s, output resumed %.1f s"
                        + " after the stop", down, (System.nanoTime() - stoppedAt) / 1e9);
                LOG.info(resumed);
                System.out.println(resumed);

                stream.release();
                List<RecordMetadata> landed = stream.awaitLanded();
                assertThat(audit.awaitTotal(landed.size(), WAIT, a -> { }))
                        .as("all %d inputs out (%s)", landed.size(), audit.summary()).isTrue();
                audit.poll(Duration.ofSeconds(3)); // a duplicate would come late
                OutputChecks.everyInputExactlyOnce(audit, landed);
                assertThat(audit.deadLetters()).hasSize(events / 1000);
                assertThat(job.getJobStatus().get(10, TimeUnit.SECONDS).isGloballyTerminalState()).isFalse();
            }
        } finally {
            if (job != null) {
                try {
                    job.cancel().get(60, TimeUnit.SECONDS);
                } catch (Exception e) {
                    // already ended
                }
            }
            kafka.close();
        }
    }

    private static void awaitOutput(OutputAudit audit, int total) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (audit.total() < total) {
            assertThat(System.nanoTime()).as("%d outputs within %s (%s)", total, WAIT, audit.summary())
                    .isLessThan(deadline);
            audit.poll(Duration.ofMillis(200));
        }
    }
}
