package io.inflow.e2e;

import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.demo.SampleData;
import io.inflow.schemas.SourcedText;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
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
 */
@Timeout(600)
class ExactlyOnceAfterFailureTest {

    private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceAfterFailureTest.class);
    private static final Duration OUTPUT_WAIT = Duration.ofMinutes(4);
    /** The id that makes the first attempt fail (in the second half of the sample). */
    private static final String FAIL_ON = "sample-01100";

    @Test
    void noInputIsMissingOrDuplicatedAfterARestart() throws Exception {
        FailOnce.reset();
        List<byte[][]> all = new ArrayList<>();
        for (SampleData.Record r : SampleData.load().mixed()) {
            all.add(new byte[][] {PipelineUnderTest.utf8(r.key()), r.value()});
        }
        int half = all.size() / 2;
        Configuration conf = new Configuration();
        conf.setString("restart-strategy.type", "fixed-delay");
        conf.setString("restart-strategy.fixed-delay.attempts", "3");
        conf.setString("restart-strategy.fixed-delay.delay", "500 ms");
        try (PipelineUnderTest p = PipelineUnderTest.start(conf, s -> s.map(new FailOnce(FAIL_ON))
                .returns(TypeInformation.of(SourcedText.class)).name("fail once on " + FAIL_ON));
                OutputAudit audit = p.audit()) {
            List<RecordMetadata> landed = new ArrayList<>(p.produce(all.subList(0, half)));
            assertThat(audit.awaitTotal(half, OUTPUT_WAIT, a -> { })).as("first half committed").isTrue();
            assertThat(FailOnce.FAILURES.get()).as("no failure before the second half").isZero();

            landed.addAll(p.produce(all.subList(half, all.size())));
            assertThat(audit.awaitTotal(all.size(), OUTPUT_WAIT, a -> { }))
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
            long uncommittedView = countAll(p, "read_uncommitted");
            LOG.info("read_committed sees {} outputs; read_uncommitted sees {} (aborted writes of the failed attempt)",
                    audit.total(), uncommittedView);
            assertThat(uncommittedView).isGreaterThanOrEqualTo(all.size());
        }
    }

    private static long countAll(PipelineUnderTest p, String isolation) {
        Properties props = new Properties();
        props.setProperty("bootstrap.servers", p.kafka.bootstrapServers());
        props.setProperty("group.id", "count-" + isolation + "-" + System.nanoTime());
        props.setProperty("isolation.level", isolation);
        props.setProperty("auto.offset.reset", "earliest");
        long n = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(List.of(p.settings.topics().enriched(), p.settings.topics().deadLetter()));
            int emptyPolls = 0;
            while (emptyPolls < 5) {
                int got = c.poll(Duration.ofMillis(500)).count();
                n += got;
                emptyPolls = got == 0 ? emptyPolls + 1 : 0;
            }
        }
        return n;
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
