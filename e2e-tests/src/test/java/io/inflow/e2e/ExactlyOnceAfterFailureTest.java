package io.inflow.e2e;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.demo.SampleData;
import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;
import io.inflow.schemas.SourcedText;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One forced failure mid-stream: the job fails on a record after earlier outputs were committed, Flink restarts it
 * from the last checkpoint and replays. A {@code read_committed} consumer must see every input exactly once; the
 * records the failed attempt had written sit in aborted transactions.
 *
 * <p>Checkpoints happen only when the test asks for them ({@link ManualCheckpoints}), so the failed attempt's open
 * transaction is known to hold writes when the failure comes: the test waits until a {@code read_uncommitted}
 * consumer sees outputs beyond the committed ones, and only then produces the record that fails the job. That makes
 * "the uncommitted view is strictly larger than the committed one" a deterministic check that aborted writes exist
 * and stay invisible.
 */
@Timeout(600)
class ExactlyOnceAfterFailureTest {

    private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceAfterFailureTest.class);
    private static final Duration OUTPUT_WAIT = Duration.ofMinutes(4);

    @Test
    void noInputIsMissingOrDuplicatedAfterARestart() throws Exception {
        FailOnce.reset();
        List<SampleData.Record> sample = new ArrayList<>(SampleData.load().mixed());
        // the record that fails the first attempt: the last valid text, produced on its own at the end
        int last = sample.size() - 1;
        while (sample.get(last).malformed()) {
            last--;
        }
        SampleData.Record trigger = sample.remove(last);
        String failOn = new InputDecoder(Limits.defaults()).decodeText(trigger.value()).id();
        List<byte[][]> all = new ArrayList<>();
        for (SampleData.Record r : sample) {
            all.add(new byte[][] {PipelineUnderTest.utf8(r.key()), r.value()});
        }
        all.add(new byte[][] {PipelineUnderTest.utf8(trigger.key()), trigger.value()});
        int half = all.size() / 2;

        Configuration conf = new Configuration();
        conf.setString("restart-strategy.type", "fixed-delay");
        conf.setString("restart-strategy.fixed-delay.attempts", "3");
        conf.setString("restart-strategy.fixed-delay.delay", "500 ms");
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, ManualCheckpoints.NEVER);
        conf.set(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, ManualCheckpoints.NEVER);
        conf.set(KafkaOptions.TRANSACTION_TIMEOUT, KafkaOptions.BROKER_MAX_TRANSACTION_TIMEOUT);
        // checkpoints only on request: none can time out in a row, and 1 x (timeout + NEVER) stays below the
        // transaction timeout that CheckpointPolicy checks at start
        conf.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, 0);
        try (PipelineUnderTest p = PipelineUnderTest.start(conf, s -> s.map(new FailOnce(failOn))
                .returns(TypeInformation.of(SourcedText.class)).name("fail once on " + failOn));
                OutputAudit audit = p.audit();
                OutputCount uncommitted = new OutputCount(p, "read_uncommitted")) {
            ManualCheckpoints checkpoints = new ManualCheckpoints(p);
            List<RecordMetadata> landed = new ArrayList<>(p.produce(all.subList(0, half)));
            assertThat(audit.awaitTotal(half, OUTPUT_WAIT, a -> checkpoints.trigger()))
                    .as("first half committed (%s)", audit.summary()).isTrue();

            landed.addAll(p.produce(all.subList(half, all.size() - 1)));
            assertThat(uncommitted.awaitMoreThan(audit.total(), OUTPUT_WAIT))
                    .as("the open transaction holds outputs of the second half").isTrue();
            audit.poll(Duration.ofSeconds(1));
            assertThat(audit.total()).as("nothing committed without a checkpoint").isEqualTo(half);
            assertThat(FailOnce.FAILURES.get()).as("no failure before the trigger record").isZero();

            landed.addAll(p.produce(all.subList(all.size() - 1, all.size())));
            // no checkpoint until the trigger record failed the job: one taken earlier would commit the open
            // transaction, leaving no aborted writes for the read_uncommitted check below
            long failDeadline = System.nanoTime() + OUTPUT_WAIT.toNanos();
            while (FailOnce.FAILURES.get() == 0 && System.nanoTime() < failDeadline) {
                Thread.sleep(20);
            }
            assertThat(FailOnce.FAILURES.get()).as("the trigger record failed the job").isEqualTo(1);
            assertThat(audit.awaitTotal(all.size(), OUTPUT_WAIT, a -> checkpoints.trigger()))
                    .as("all outputs after the restart (%s)", audit.summary()).isTrue();
            audit.poll(Duration.ofSeconds(3)); // a duplicate would arrive late

            assertThat(FailOnce.FAILURES.get()).as("the injected failure happened").isEqualTo(1);
            assertThat(FailOnce.SEEN.get()).as("the failing record was replayed after the restart").isEqualTo(2);
            assertThat(audit.duplicates()).isEmpty();
            assertThat(audit.total()).isEqualTo(all.size());
            for (RecordMetadata m : landed) {
                assertThat(audit.hasOutputFor(m.topic(), m.partition(), m.offset()))
                        .as("output for %s-%d@%d", m.topic(), m.partition(), m.offset()).isTrue();
            }
            long uncommittedView = uncommitted.settle();
            LOG.info("read_committed sees {} outputs; read_uncommitted sees {} (aborted writes of the failed attempt)",
                    audit.total(), uncommittedView);
            assertThat(uncommittedView).as("read_uncommitted also sees the failed attempt's aborted writes")
                    .isGreaterThan(all.size());
        }
    }

    /** Counts every record on the output topics as a consumer with the given isolation level sees them. */
    private static final class OutputCount implements AutoCloseable {
        private final KafkaConsumer<byte[], byte[]> consumer;
        private long count;

        OutputCount(PipelineUnderTest p, String isolation) {
            Properties props = new Properties();
            props.setProperty("bootstrap.servers", p.kafka.bootstrapServers());
            props.setProperty("group.id", "count-" + isolation + "-" + System.nanoTime());
            props.setProperty("isolation.level", isolation);
            props.setProperty("auto.offset.reset", "earliest");
            consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            consumer.subscribe(List.of(p.settings.topics().enriched(), p.settings.topics().deadLetter()));
        }

        /** Polls until more than {@code n} records were seen or the timeout passed. */
        boolean awaitMoreThan(long n, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (count <= n && System.nanoTime() < deadline) {
                count += consumer.poll(Duration.ofMillis(200)).count();
            }
            return count > n;
        }

        /** Polls until five polls in a row bring nothing; returns the total. */
        long settle() {
            int emptyPolls = 0;
            while (emptyPolls < 5) {
                int got = consumer.poll(Duration.ofMillis(500)).count();
                count += got;
                emptyPolls = got == 0 ? emptyPolls + 1 : 0;
            }
            return count;
        }

        @Override
        public void close() {
            consumer.close();
        }
    }

    /** Throws on the first sight of one event id; lets it through afterwards (the MiniCluster shares this JVM). */
    static final class FailOnce implements MapFunction<SourcedText, SourcedText> {
        static final AtomicInteger FAILURES = new AtomicInteger();
        static final AtomicInteger SEEN = new AtomicInteger();
        private final String id;

        FailOnce(String id) {
            this.id = id;
        }

        static void reset() {
            FAILURES.set(0);
            SEEN.set(0);
        }

        @Override
        public SourcedText map(SourcedText value) {
            if (value.event().id().equals(id)) {
                SEEN.incrementAndGet();
                if (FAILURES.compareAndSet(0, 1)) {
                    throw new IllegalStateException("injected failure on " + id);
                }
            }
            return value;
        }
    }
}
