package io.inflow.jobs.demo;

import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ScorerRef;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The demo's scorer results: five scored texts, the label counts per sample source, and how often the bundled
 * spam/ham scorer calls the sample's SpamAssassin ham texts ham, on all of them and on those from messages the head
 * never saw in training (its held-out split, {@code models/spam-ham-minilm/held-out-ids.txt}). The sample texts are
 * single paragraphs or subject lines while the head was trained on whole messages, so this is a plausibility check
 * of the wiring, not the head's accuracy (that is {@code Int8SpamHamTest} and {@code training.json}).
 *
 * <p>{@code new ScorePrinter(System.out).print(audit.enriched(), textById);}
 */
final class ScorePrinter {

    private static final String HELD_OUT = "models/spam-ham-minilm/held-out-ids.txt";

    private final PrintStream out;

    ScorePrinter(PrintStream out) {
        this.out = out;
    }

    /** @param textById the sample's text per event id, for previews */
    void print(List<EnrichedEvent> enriched, Map<String, String> textById) {
        List<EnrichedEvent> scored = enriched.stream().filter(e -> e.scorer() != null).toList();
        long texts = enriched.stream().filter(e -> EnrichedEvent.INPUT_TEXT.equals(e.inputType())).count();
        out.println();
        if (scored.isEmpty()) {
            out.printf("== scorer: none of %d text events carries scores ==%n", texts);
            return;
        }
        ScorerRef ref = scored.get(0).scorer();
        out.printf("== scorer %s v%s at %s: %d of %d text events scored, 5 of them ==%n", ref.name(), ref.version(),
                ref.precision(), scored.size(), texts);
        scored.stream().limit(5).forEach(e -> out.printf("  %-13s %-5s %.3f  %s%n", e.id(),
                e.scores().get(0).label(), e.scores().get(0).score(),
                abbreviate(textById.getOrDefault(e.id(), ""), 90)));
        Map<String, Map<String, Integer>> bySource = new TreeMap<>();
        for (EnrichedEvent e : scored) {
            bySource.computeIfAbsent(e.attributes().getOrDefault("source", "?"), k -> new TreeMap<>())
                    .merge(e.scores().get(0).label(), 1, Integer::sum);
        }
        bySource.forEach((source, labels) -> out.printf("  %-18s %s%s%n", source, labels,
                source.equals("handwritten") ? " (multilingual and emoji texts, far from the English e-mail the"
                        + " head was trained on)" : ""));
        if (ref.name().equals("spam-ham-minilm")) {
            Set<String> heldOut = heldOutMessages();
            long ham = 0;
            long hamRight = 0;
            long held = 0;
            long heldRight = 0;
            for (EnrichedEvent e : scored) {
                if (!"spamassassin-ham".equals(e.attributes().get("source"))) {
                    continue;
                }
                boolean right = e.scores().get(0).label().equals("ham");
                ham++;
                hamRight += right ? 1 : 0;
                if (heldOut.contains(e.attributes().getOrDefault("message", ""))) {
                    held++;
                    heldRight += right ? 1 : 0;
                }
            }
            out.printf("  SpamAssassin ham paragraphs called ham: %d of %d (%.1f%%); from messages the head never"
                    + " trained on: %d of %d (%.1f%%)%n", hamRight, ham, pct(hamRight, ham), heldRight, held,
                    pct(heldRight, held));
        }
    }

    private static double pct(long a, long b) {
        return b == 0 ? 0 : 100.0 * a / b;
    }

    private static Set<String> heldOutMessages() {
        try (InputStream in = ScorePrinter.class.getClassLoader().getResourceAsStream(HELD_OUT)) {
            if (in == null) {
                return Set.of();
            }
            return new HashSet<>(List.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")));
        } catch (IOException e) {
            return Set.of();
        }
    }

    private static String abbreviate(String s, int max) {
        String one = s.replaceAll("\\s+", " ").trim();
        return one.length() <= max ? one : one.substring(0, max - 3) + "...";
    }
}
