package io.inflow.e2e.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * WordNet 3.0 noun synsets (Debian {@code wordnet-base}, {@code /usr/share/wordnet/data.noun}) whose gloss definition
 * (the part before any quoted example, which often names the lemma) has at least 5 words, in file order, split in
 * two: every {@code every}th of them is held out (the evaluation split of {@link RetrievalQuality}), the rest is the
 * training split of the projection heads ({@link HeadTrainingData}). The two never share a synset.
 *
 * <p>{@code List<Synset> test = WordNetNouns.heldOut(16); List<Synset> train = WordNetNouns.training(16, 20_000);}
 */
public final class WordNetNouns {
    public static final Path DATA = Path.of("/usr/share/wordnet/data.noun");

    /**
     * A noun synset: its offset in data.noun, first lemma (underscores as spaces), gloss definition, and its
     * lexicographer file number (5 = noun.animal, 13 = noun.food, 28 = noun.time, ...).
     */
    public record Synset(String offset, String lemma, String gloss, int lexFile) {
    }

    /** Every filtered synset of lexicographer file {@code lexFile}, in file order. */
    public static List<Synset> ofLexFile(int lexFile) throws IOException {
        return filtered().stream().filter(s -> s.lexFile() == lexFile).toList();
    }

    private WordNetNouns() {
    }

    /** Every {@code every}th filtered synset in file order (the first included). */
    static List<Synset> heldOut(int every) throws IOException {
        List<Synset> out = new ArrayList<>();
        List<Synset> all = filtered();
        for (int i = 0; i < all.size(); i += every) {
            out.add(all.get(i));
        }
        return out;
    }

    /**
     * The filtered synsets not in {@link #heldOut}, thinned evenly to at most {@code cap} in file order (file order
     * groups synsets by lexicographer file, so even thinning keeps every topic): training item {@code j} of
     * {@code n} is kept when {@code floor(j * cap / n)} steps up.
     */
    static List<Synset> training(int every, int cap) throws IOException {
        List<Synset> rest = new ArrayList<>();
        List<Synset> all = filtered();
        for (int i = 0; i < all.size(); i++) {
            if (i % every != 0) {
                rest.add(all.get(i));
            }
        }
        if (rest.size() <= cap) {
            return rest;
        }
        List<Synset> out = new ArrayList<>();
        long n = rest.size();
        for (int j = 0; j < rest.size(); j++) {
            if (j == 0 || (j * (long) cap) / n != ((j - 1) * (long) cap) / n) {
                out.add(rest.get(j));
            }
        }
        return out;
    }

    static void requireInstalled() {
        if (!Files.isReadable(DATA)) {
            throw new IllegalStateException(DATA + " is missing: apt-get install wordnet-base");
        }
    }

    private static List<Synset> filtered() throws IOException {
        requireInstalled();
        List<Synset> out = new ArrayList<>();
        for (String line : Files.readAllLines(DATA, StandardCharsets.UTF_8)) {
            if (line.startsWith("  ")) {
                continue;
            }
            String[] head = line.substring(0, line.indexOf(" | ")).split(" ");
            String gloss = line.substring(line.indexOf(" | ") + 3).trim();
            int quote = gloss.indexOf("; \"");
            String definition = quote > 0 ? gloss.substring(0, quote) : gloss; // examples often name the lemma
            if (definition.split("\\s+").length < 5) {
                continue;
            }
            out.add(new Synset(head[0], head[4].replace('_', ' '), definition, Integer.parseInt(head[1])));
        }
        return out;
    }
}
