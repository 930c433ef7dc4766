package io.inflow.jobs.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The bundled sample: 1,200 real text events ({@code sample/text-events.jsonl}, SpamAssassin ham plus handwritten
 * multilingual and emoji texts) and 12 malformed records ({@code sample/malformed/}), mixed in the order a producer
 * would send them.
 *
 * <p>{@code List<SampleData.Record> records = SampleData.load().mixed();}
 */
public final class SampleData {

    private static final String GOOD = "sample/text-events.jsonl";
    private static final String BAD_INDEX = "sample/malformed/index.txt";

    /** One record to produce: its key and value bytes, and whether it is one of the malformed ones. */
    public record Record(String key, byte[] value, boolean malformed) {
    }

    private final List<Record> good;
    private final List<Record> bad;

    private SampleData(List<Record> good, List<Record> bad) {
        this.good = good;
        this.bad = bad;
    }

    /** Reads the sample from the classpath. */
    public static SampleData load() {
        List<Record> good = new ArrayList<>();
        try (BufferedReader r = reader(GOOD)) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.isBlank()) {
                    good.add(new Record(idOf(line), line.getBytes(StandardCharsets.UTF_8), false));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Record> bad = new ArrayList<>();
        try (BufferedReader r = reader(BAD_INDEX)) {
            String name;
            while ((name = r.readLine()) != null) {
                if (!name.isBlank()) {
                    bad.add(new Record("malformed-" + name.strip(), bytes("sample/malformed/" + name.strip()), true));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new SampleData(good, bad);
    }

    /**
     * The demo's retrieval corpus: 500 WordNet 3.0 noun synsets as corpus records (key = doc_id), written by
     * {@code jobs/scripts/make-sample-corpus.py} (licence: {@code sample/WORDNET-LICENSE}).
     */
    public static List<Record> corpus() {
        List<Record> docs = new ArrayList<>();
        try (BufferedReader r = reader("sample/corpus.jsonl")) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.isBlank()) {
                    int i = line.indexOf("\"doc_id\":\"") + 10;
                    docs.add(new Record(line.substring(i, line.indexOf('"', i)), line.getBytes(StandardCharsets.UTF_8),
                            false));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return docs;
    }

    /** Good records with the malformed ones spread evenly among them. */
    public List<Record> mixed() {
        return spread(good, bad);
    }

    /** {@code good} with {@code bad} spread evenly among them (the rest of {@code bad} at the end). */
    static List<Record> spread(List<Record> good, List<Record> bad) {
        List<Record> out = new ArrayList<>(good.size() + bad.size());
        int every = Math.max(1, good.size() / (bad.size() + 1));
        int b = 0;
        for (int i = 0; i < good.size(); i++) {
            if (i > 0 && i % every == 0 && b < bad.size()) {
                out.add(bad.get(b++));
            }
            out.add(good.get(i));
        }
        while (b < bad.size()) {
            out.add(bad.get(b++));
        }
        return out;
    }

    public int goodCount() {
        return good.size();
    }

    public int malformedCount() {
        return bad.size();
    }

    static String idOf(String jsonLine) {
        int i = jsonLine.indexOf("\"id\":\"");
        if (i < 0) {
            return null;
        }
        int start = i + 6;
        return jsonLine.substring(start, jsonLine.indexOf('"', start));
    }

    static BufferedReader reader(String resource) {
        return new BufferedReader(new InputStreamReader(stream(resource), StandardCharsets.UTF_8));
    }

    static byte[] bytes(String resource) throws IOException {
        try (InputStream in = stream(resource)) {
            return in.readAllBytes();
        }
    }

    private static InputStream stream(String resource) {
        InputStream in = SampleData.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalStateException("bundled sample resource " + resource + " is missing from the classpath");
        }
        return in;
    }
}
