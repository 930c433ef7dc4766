package io.inflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.jobs.demo.OutputAudit;
import io.inflow.schemas.EnrichedEvent;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the retrieval end-to-end tests share: waiting for the enriched events of the inputs just produced, and
 * comparing an event's neighbours with a brute force's ranking (ids in order except where two brute-force scores are
 * closer than the tolerance, scores within it).
 *
 * <pre>{@code
 * List<EnrichedEvent> answers = NeighbourChecks.await(audit, before, ids, Duration.ofMinutes(4));
 * NeighbourChecks.assertRanking(answers.get(0), expectedIds, expectedScores, 5, 1e-4);
 * }</pre>
 */
final class NeighbourChecks {

    private NeighbourChecks() {
    }

    /** The enriched events with {@code ids} among those the audit read after index {@code before}, in ids' order. */
    static List<EnrichedEvent> await(OutputAudit audit, int before, List<String> ids, Duration wait)
            throws Exception {
        long deadline = System.nanoTime() + wait.toNanos();
        Map<String, EnrichedEvent> byId = new LinkedHashMap<>();
        while (byId.size() < ids.size() && System.nanoTime() < deadline) {
            audit.poll(Duration.ofMillis(200));
            for (EnrichedEvent e : audit.enriched().subList(before, audit.enriched().size())) {
                byId.put(e.id(), e);
            }
        }
        assertThat(byId.keySet()).as("every event answered within %s (%s; dead letters: %s)", wait, audit.summary(),
                audit.deadLetters().stream().limit(3).map(d -> d.kind() + " at " + d.stage() + ": " + d.message())
                        .toList())
                .containsAll(ids);
        return ids.stream().map(byId::get).toList();
    }

    /**
     * {@code answer}'s k neighbours against the brute force's ranking ({@code ids} best first with their
     * {@code scores}, at least k + 1 of them or all there are): ranks 1..k, each score within {@code tolerance},
     * each id equal unless the brute force has a near tie at that place.
     */
    static void assertRanking(EnrichedEvent answer, List<String> ids, List<Double> scores, int k, double tolerance) {
        List<EnrichedEvent.Neighbour> got = answer.neighbours();
        assertThat(got).as("neighbours of %s", answer.id()).hasSize(k);
        for (int i = 0; i < k; i++) {
            assertThat(got.get(i).rank()).isEqualTo(i + 1);
            assertThat(got.get(i).score()).as("score %d of %s", i, answer.id())
                    .isCloseTo(scores.get(i), org.assertj.core.data.Offset.offset(tolerance));
            boolean nearTie = (i > 0 && scores.get(i - 1) - scores.get(i) < tolerance)
                    || (i + 1 < scores.size() && scores.get(i) - scores.get(i + 1) < tolerance);
            if (!nearTie) {
                assertThat(got.get(i).docId()).as("neighbour %d of %s", i, answer.id()).isEqualTo(ids.get(i));
            }
        }
    }
}
