package io.inflow.e2e;

import io.inflow.jobs.demo.OutputAudit;

import org.apache.kafka.clients.producer.RecordMetadata;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Assertions shared by the end-to-end tests about what came out of the pipeline. */
final class OutputChecks {

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

    /** Closes the audit and the pipeline, whichever were started. */
    static void stop(OutputAudit audit, PipelineUnderTest pipeline) throws Exception {
        if (audit != null) {
            audit.close();
        }
        if (pipeline != null) {
            pipeline.close();
        }
    }
}
