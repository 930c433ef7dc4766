package io.inflow.gpu.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * WordNet 3.0 noun synsets from Debian's {@code wordnet-base} ({@code /usr/share/wordnet/data.noun}, installed by
 * {@code .ci/run}): offset, lexicographer file, first lemma, the gloss's definition and the hypernym offsets.
 *
 * <p>{@code List<WordNetGlosses.Synset> nouns = WordNetGlosses.read(WordNetGlosses.DATA_NOUN);}
 *
 * <p>A data line (after the license lines, which start with two spaces) reads
 * {@code offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt [ptr...] | gloss}, with {@code w_cnt}
 * two hex digits, {@code p_cnt} three decimal digits and each pointer {@code symbol offset pos source/target}
 * (see {@code wndb(5)}). The file is ordered by offset, which groups the synsets by lexicographer file.
 */
public final class WordNetGlosses {

    /** Where Debian's {@code wordnet-base} puts the noun data file. */
    public static final Path DATA_NOUN = Path.of("/usr/share/wordnet/data.noun");

    /** Names of the noun lexicographer files, indexed by file number (03..28; see {@code lexnames(5)}). */
    static final String[] NOUN_LEX_FILES = new String[29];

    static {
        String[] names = {
            "noun.Tops",          // 03 unique beginner for nouns
            "noun.act",           // 04 acts or actions
            "noun.animal",        // 05 animals
            "noun.artifact",      // 06 man-made objects
            "noun.attribute",     // 07 attributes of people and objects
            "noun.body",          // 08 body parts
            "noun.cognition",     // 09 cognitive processes and contents
            "noun.communication", // 10 communicative processes and contents
            "noun.event",         // 11 natural events
            "noun.feeling",       // 12 feelings and emotions
            "noun.food",          // 13 foods and drinks
            "noun.group",         // 14 groupings of people or objects
            "noun.location",      // 15 spatial position
            "noun.motive",        // 16 goals
            "noun.object",        // 17 natural objects (not man-made)
            "noun.person",        // 18 people
            "noun.phenomenon",    // 19 natural phenomena
            "noun.plant",         // 20 plants
            "noun.possession",    // 21 possession and transfer of possession
            "noun.process",       // 22 natural processes
            "noun.quantity",      // 23 quantities and units of measure
            "noun.relation",      // 24 relations between people or things or ideas
            "noun.shape",         // 25 two and three dimensional shapes
            "noun.state",         // 26 stable states of affairs
            "noun.substance",     // 27 substances
            "noun.time",          // 28 time and temporal relations
        };
        System.arraycopy(names, 0, NOUN_LEX_FILES, 3, names.length);
    }

    /**
     * One noun synset.
     *
     * @param offset     byte offset of the line in data.noun (the synset's id)
     * @param lexFile    lexicographer file number (03..28, see {@link #NOUN_LEX_FILES})
     * @param lemma      the first word, underscores as spaces
     * @param definition the gloss up to its first example ({@code ; "})
     * @param hypernyms  offsets of the noun hypernyms ({@code @}) and instance hypernyms ({@code @i})
     */
    public record Synset(long offset, int lexFile, String lemma, String definition, long[] hypernyms) {

        String lexFileName() {
            return NOUN_LEX_FILES[lexFile];
        }

        /** What gets embedded: {@code "lemma: definition"}. */
        String text() {
            return lemma + ": " + definition;
        }
    }

    private WordNetGlosses() {
    }

    /** Every synset of a data.noun file, in file (offset) order. */
    public static List<Synset> read(Path dataNoun) throws IOException {
        List<Synset> out = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(dataNoun, StandardCharsets.UTF_8)) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("  ") || line.isBlank()) {
                    continue;
                }
                out.add(parse(line));
            }
        }
        return out;
    }

    /**
     * {@code n} synsets spread evenly over the file (synset {@code floor(i * size / n)} for {@code i < n}), so every
     * lexicographer file with at least {@code size / n} synsets appears, in proportion to its size.
     */
    static List<Synset> spread(List<Synset> all, int n) {
        if (n > all.size()) {
            throw new IllegalArgumentException(n + " synsets asked for, the file has " + all.size());
        }
        List<Synset> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(all.get((int) ((long) i * all.size() / n)));
        }
        return out;
    }

    /** One data line (see the class comment). */
    static Synset parse(String line) {
        int bar = line.indexOf(" | ");
        if (bar < 0) {
            throw new IllegalArgumentException("no gloss in data line: " + line);
        }
        String[] f = line.substring(0, bar).trim().split(" +");
        long offset = Long.parseLong(f[0]);
        int lexFile = Integer.parseInt(f[1]);
        if (!f[2].equals("n")) {
            throw new IllegalArgumentException("not a noun synset (ss_type " + f[2] + "): " + line);
        }
        int words = Integer.parseInt(f[3], 16);
        String lemma = f[4].replace('_', ' ');
        int p = 4 + 2 * words;
        int pointers = Integer.parseInt(f[p++]);
        List<Long> hyper = new ArrayList<>();
        for (int k = 0; k < pointers; k++, p += 4) {
            String symbol = f[p];
            if ((symbol.equals("@") || symbol.equals("@i")) && f[p + 2].equals("n")) {
                hyper.add(Long.parseLong(f[p + 1]));
            }
        }
        if (p != f.length) {
            throw new IllegalArgumentException((f.length - p) + " unparsed fields before the gloss: " + line);
        }
        String gloss = line.substring(bar + 3).trim();
        int example = gloss.indexOf("; \"");
        String definition = (example >= 0 ? gloss.substring(0, example) : gloss).trim();
        return new Synset(offset, lexFile, lemma, definition, hyper.stream().mapToLong(Long::longValue).toArray());
    }
}
