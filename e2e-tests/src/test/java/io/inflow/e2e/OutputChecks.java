package io.inflow.e2e;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.jobs.demo.OutputAudit;
import org.apache.flink.configuration.Configuration;
import io.inflow.schemas.DeadLetterRecord;

import org.apache.kafka.clients.producer.RecordMetadata;

import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Assertions shared by the end-to-end tests about what came out of the pipeline. */
public final class OutputChecks {

    private OutputChecks() {
    }

    /** Every produced record's offset has exactly one readable output, and nothing else came out. */
    static void everyInputExactlyOnce(OutputAudit audit, List<RecordMetadata> landed) {
        assertThat(audit.unreadable()).isEmpty();
        assertThat(audit.duplicates()).isEmpty();
        assertThat(audit.total()).isEqualTo(landed.size());
        for (RecordMetadata m : landed) {
            assertThat(audit.hasOutputFor(m.topic(), m.partition(), m.offset()))
                    .as("output for %s-%d@%d", m.topic(), m.partition(), m.offset()).isTrue();
        }
    }

    /**
     * The dead letter carries the input's original key and value: whole, or (when they exceed the dead-letter share
     * {@code inflow.dead-letter.max-original-bytes}) as prefixes with the whole sizes and SHA-256 in its truncation.
     */
    static void carriesOriginal(DeadLetterRecord d, byte[] key, byte[] value) {
        if (d.truncation() == null) {
            assertThat(d.key()).as("original key of %s", d.kind()).isEqualTo(key);
            assertThat(d.value()).as("original value bytes of %s", d.kind()).isEqualTo(value);
            return;
        }
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        assertThat(d.truncation().valueSize()).as("original value size of %s", d.kind()).isEqualTo(value.length);
        assertThat(d.truncation().valueSha256()).isEqualTo(HexFormat.of().formatHex(sha.digest(value)));
        assertThat(value).as("cut value is a prefix").startsWith(d.value());
        if (key == null) {
            assertThat(d.key()).isNull();
        } else {
            assertThat(key).as("cut key is a prefix").startsWith(d.key());
        }
        assertThat(d.originalBytes()).as("kept bytes").isLessThan(key.length + (long) value.length);
    }

    /** Closes the audit and the pipeline, whichever were started. */
    static void stop(OutputAudit audit, PipelineUnderTest pipeline) throws Exception {
        if (audit != null) {
            audit.close();
        }
        if (pipeline != null) {
            pipeline.close();
        }
    }

    /** Cosine of two vectors, in double. */
    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    /** Reads what is committed now, until polls bring nothing new for two seconds; the total. */
    static int drain(OutputAudit audit) {
        long quietSince = System.nanoTime();
        while (System.nanoTime() - quietSince < 2_000_000_000L) {
            int before = audit.total();
            audit.poll(Duration.ofMillis(250));
            if (audit.total() != before) {
                quietSince = System.nanoTime();
            }
        }
        return audit.total();
    }

    /**
     * A pipeline configuration of its own for one test: the broker, and group id, transactional id prefix and the
     * text / enriched / dlq topics all named after {@code name} ({@code name.text}, ...).
     */
    public static Configuration namedPipeline(String bootstrapServers, String name) {
        Configuration conf = new Configuration();
        conf.set(KafkaOptions.BOOTSTRAP_SERVERS, bootstrapServers);
        conf.set(KafkaOptions.GROUP_ID, name);
        conf.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, name);
        conf.set(KafkaOptions.TOPIC_TEXT, name + ".text");
        conf.set(KafkaOptions.TOPIC_ENRICHED, name + ".enriched");
        conf.set(KafkaOptions.TOPIC_DLQ, name + ".dlq");
        return conf;
    }
}
