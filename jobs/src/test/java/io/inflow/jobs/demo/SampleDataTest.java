package io.inflow.jobs.demo;

import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;
import io.inflow.schemas.RecordRejectedException;
import io.inflow.schemas.TextEvent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The bundled demo sample: what the demo promises (1,200 enriched, 12 dead letters) follows from these records. */
class SampleDataTest {

    private static final int GOOD = 1_200;
    private static final int MALFORMED = 12;

    /** The error kind each malformed file is meant to produce (sample/malformed/README.md). */
    private static final Map<String, ErrorKind> EXPECTED_KINDS = new LinkedHashMap<>();

    static {
        EXPECTED_KINDS.put("malformed-01-truncated-json.bin", ErrorKind.MALFORMED_JSON);
        EXPECTED_KINDS.put("malformed-02-not-an-object.bin", ErrorKind.MALFORMED_JSON);
        EXPECTED_KINDS.put("malformed-03-missing-text.bin", ErrorKind.MISSING_FIELD);
        EXPECTED_KINDS.put("malformed-04-id-is-number.bin", ErrorKind.INVALID_FIELD);
        EXPECTED_KINDS.put("malformed-05-invalid-utf8.bin", ErrorKind.INVALID_UTF8);
        EXPECTED_KINDS.put("malformed-06-unknown-type.bin", ErrorKind.UNKNOWN_TYPE);
        EXPECTED_KINDS.put("malformed-07-unsupported-version.bin", ErrorKind.UNSUPPORTED_VERSION);
        EXPECTED_KINDS.put("malformed-08-empty-text.bin", ErrorKind.INVALID_FIELD);
        EXPECTED_KINDS.put("malformed-09-oversize-text.bin", ErrorKind.INVALID_FIELD);
        EXPECTED_KINDS.put("malformed-10-plain-text.bin", ErrorKind.MALFORMED_JSON);
        EXPECTED_KINDS.put("malformed-11-duplicate-key.bin", ErrorKind.MALFORMED_JSON);
        EXPECTED_KINDS.put("malformed-12-empty.bin", ErrorKind.EMPTY_RECORD);
    }

    private static SampleData sample;
    private static List<SampleData.Record> mixed;

    @BeforeAll
    static void load() {
        sample = SampleData.load();
        mixed = sample.mixed();
    }

    /** The demo's corpus: 500 WordNet synsets, unique ids, every one a valid upsert whose key is its doc_id. */
    @Test
    void theCorpusIsFiveHundredValidUpsertsKeyedByDocId() throws Exception {
        List<SampleData.Record> corpus = SampleData.corpus();
        assertThat(corpus).hasSize(500);
        assertThat(corpus.stream().map(SampleData.Record::key).distinct().count()).isEqualTo(500);
        InputDecoder decoder = new InputDecoder(Limits.defaults());
        for (SampleData.Record r : corpus) {
            io.inflow.schemas.CorpusRecord doc = decoder.decodeCorpus(r.value());
            assertThat(doc.docId()).isEqualTo(r.key()).startsWith("wn-n");
            assertThat(doc.op()).isEqualTo(io.inflow.schemas.CorpusRecord.Op.UPSERT);
            assertThat(doc.text()).contains(": ");
        }
    }

    @Test
    void counts() {
        assertThat(sample.goodCount()).isEqualTo(GOOD);
        assertThat(sample.malformedCount()).isEqualTo(MALFORMED);
        assertThat(mixed).hasSize(GOOD + MALFORMED);
        assertThat(mixed).filteredOn(SampleData.Record::malformed).hasSize(MALFORMED);
    }

    @Test
    void mixedHoldsEveryRecordExactlyOnce() {
        List<String> keys = mixed.stream().map(SampleData.Record::key).toList();

        assertThat(keys).doesNotContainNull().doesNotHaveDuplicates();
        assertThat(keys).filteredOn(k -> k.startsWith("malformed-"))
                .containsExactlyInAnyOrderElementsOf(EXPECTED_KINDS.keySet());
        // a second call gives the same order, so a re-run of the demo produces the same offsets
        assertThat(sample.mixed().stream().map(SampleData.Record::key).toList()).isEqualTo(keys);
    }

    @Test
    void malformedRecordsAreSpreadAmongTheGoodOnes() {
        List<Integer> positions = new ArrayList<>();
        for (int i = 0; i < mixed.size(); i++) {
            if (mixed.get(i).malformed()) {
                positions.add(i);
            }
        }
        int evenGap = GOOD / (MALFORMED + 1);

        assertThat(positions.get(0)).as("first malformed record").isGreaterThan(0).isLessThanOrEqualTo(2 * evenGap);
        assertThat(positions.get(MALFORMED - 1)).as("last malformed record is not at the end")
                .isLessThan(mixed.size() - evenGap / 2);
        for (int i = 1; i < positions.size(); i++) {
            int gap = positions.get(i) - positions.get(i - 1);
            assertThat(gap).as("gap between malformed records %d and %d", i - 1, i)
                    .isBetween(evenGap / 2, 2 * evenGap);
        }
    }

    @Test
    void everyGoodRecordsKeyIsItsJsonId() throws IOException {
        ObjectMapper json = new ObjectMapper();
        for (SampleData.Record r : mixed) {
            if (!r.malformed()) {
                JsonNode node = json.readTree(r.value());
                assertThat(r.key()).as("key of %s", node.path("id")).isEqualTo(node.path("id").asText());
            }
        }
    }

    @Test
    void everyGoodRecordDecodesAndEveryMalformedOneIsRejectedWithItsDocumentedKind() throws Exception {
        InputDecoder decoder = new InputDecoder(Limits.defaults());
        Set<String> ids = new HashSet<>();
        for (SampleData.Record r : mixed) {
            if (r.malformed()) {
                RecordRejectedException e = catchThrowableOfType(RecordRejectedException.class,
                        () -> decoder.decodeText(r.value()));
                assertThat(e).as("%s is rejected", r.key()).isNotNull();
                assertThat(e.kind()).as(r.key()).isEqualTo(EXPECTED_KINDS.get(r.key()));
            } else {
                TextEvent event = decoder.decodeText(r.value());
                assertThat(event.id()).isEqualTo(r.key());
                ids.add(event.id());
            }
        }
        assertThat(ids).hasSize(GOOD);
    }
}
