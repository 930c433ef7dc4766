package io.inflow.e2e.bench;

import io.inflow.jobs.demo.SampleData;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The benchmark's input: the bundled sample's 1,200 real text events (jobs {@link SampleData}, malformed ones left
 * out), repeated with unique ids ({@code r<k>-<id>}) to any length, so the pipeline and the encoder alone see the
 * same texts in the same proportions.
 *
 * <p>{@code BenchTexts t = BenchTexts.load(); byte[] v = t.value(5000); String s = t.text(5000);}
 */
final class BenchTexts {

    private final List<String> ids = new ArrayList<>();
    private final List<String> lines = new ArrayList<>();
    private final List<String> texts = new ArrayList<>();

    private BenchTexts() {
    }

    static BenchTexts load() {
        BenchTexts t = new BenchTexts();
        ObjectMapper json = new ObjectMapper();
        for (SampleData.Record r : SampleData.load().mixed()) {
            if (r.malformed()) {
                continue;
            }
            String line = new String(r.value(), StandardCharsets.UTF_8);
            try {
                t.texts.add(json.readTree(line).path("text").asText());
            } catch (IOException e) {
                throw new UncheckedIOException("sample line of " + r.key() + " is not JSON", e);
            }
            t.ids.add(r.key());
            t.lines.add(line);
        }
        return t;
    }

    /** Distinct texts in the sample. */
    int distinct() {
        return texts.size();
    }

    /** The text of event {@code i} (the sample repeats every {@link #distinct()} events). */
    String text(int i) {
        return texts.get(i % texts.size());
    }

    /** Key of event {@code i}: its unique id. */
    byte[] key(int i) {
        return id(i).getBytes(StandardCharsets.UTF_8);
    }

    /** JSON value of event {@code i}: the sample event with its id made unique. */
    byte[] value(int i) {
        int k = i % lines.size();
        String original = ids.get(k);
        String line = lines.get(k);
        String field = "\"id\":\"" + original + "\"";
        int at = line.indexOf(field);
        if (at < 0) {
            throw new IllegalStateException("sample line " + k + " has no " + field);
        }
        String unique = line.substring(0, at) + "\"id\":\"" + id(i) + "\"" + line.substring(at + field.length());
        return unique.getBytes(StandardCharsets.UTF_8);
    }

    private String id(int i) {
        return "r" + (i / lines.size()) + "-" + ids.get(i % lines.size());
    }
}
