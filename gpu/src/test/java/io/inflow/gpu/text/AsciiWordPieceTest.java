package io.inflow.gpu.text;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.testing.EvalSentences;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The Java ASCII path gives the native Hugging Face tokenizer's ids and truncation flag on every text it accepts,
 * for both models and several limits, and declines exactly the texts it cannot reproduce.
 */
class AsciiWordPieceTest {

    /** Characters the fuzz draws from: every ASCII code (controls included) plus a few non-ASCII ones. */
    private static final String PIECES = "the quick brown fox jumps over unaffable tokenization 2026 ##ing [MASK] "
            + "[CLS] [cls] don't e-mail a.b.c $5.00 (x) \"q\" <tag> ~ ` | \\ ^ _ { } xylophonesque zzzzqqq";

    @Test
    void equalsTheNativeTokenizerOnRealAndFuzzedTexts() throws Exception {
        List<String> texts = new ArrayList<>(EvalSentences.load());
        texts.add("");
        texts.add("   \t\n ");
        texts.add("a".repeat(100) + " " + "b".repeat(101) + " " + "ab".repeat(60));
        texts.add("word ".repeat(600));
        texts.add("ab\u0001cd e\u000bf g\u001fh i\u007fj k\u0000l m\tn o\rp q\nr");
        texts.add("Hello [MASK] world");
        texts.add("café naïve");
        texts.add("tail with an accent at the very end of a long text " + "x ".repeat(300) + "e\u0301");
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 3_000; i++) {
            texts.add(fuzz(random));
        }
        int[] accepted = new int[1];
        int[] truncated = new int[1];
        for (TextModel model : TextModel.values()) {
            for (int limit : new int[] {2, 3, 16, 128, 512}) {
                try (TextTokenizer t = TextTokenizer.load(model, limit)) {
                    assertThat(t.hasAsciiPath()).as("%s has the BERT WordPiece shape", model).isTrue();
                    AsciiWordPiece fast = fastOf(model, limit);
                    for (String text : texts) {
                        Tokenized ref = t.encodeNative(text);
                        Tokenized java = fast.encode(text);
                        boolean mustDecline = !text.chars().allMatch(c -> c < 128)
                                || List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]").stream()
                                        .anyMatch(text::contains);
                        assertThat(java == null).as("declines %s/%d: %s", model, limit, text).isEqualTo(mustDecline);
                        if (java != null) {
                            accepted[0]++;
                            truncated[0] += java.truncated() ? 1 : 0;
                            assertThat(java.ids()).as("%s/%d: %s", model, limit, text).isEqualTo(ref.ids());
                            assertThat(java.truncated()).as("%s/%d: %s", model, limit, text)
                                    .isEqualTo(ref.truncated());
                        }
                        Tokenized either = t.encode(text);
                        assertThat(either.ids()).isEqualTo(ref.ids());
                        assertThat(either.truncated()).isEqualTo(ref.truncated());
                    }
                }
            }
        }
        // negative controls: the Java path really ran, on cut and uncut texts
        assertThat(accepted[0]).isGreaterThan(texts.size() * 10 * 3 / 5);
        assertThat(truncated[0]).isPositive().isLessThan(accepted[0]);
    }

    @Test
    void splitsUnknownAndOverlongWordsAsBertDoes() {
        AsciiWordPiece fast = fastOf(TextModel.ALL_MINILM_L6_V2, 64);
        int unk = 100;
        // over max_input_chars_per_word (100): one [UNK]; at exactly 100 characters: pieces
        assertThat(fast.encode("a".repeat(101)).ids()).containsExactly(101, unk, 102);
        assertThat(fast.encode("a".repeat(100)).ids().length).isGreaterThan(3);
        // punctuation is a word of its own; case folded; controls dropped inside a word
        assertThat(fast.encode("Food.").ids()).isEqualTo(fast.encode("fo\u0001od .").ids());
    }

    private static AsciiWordPiece fastOf(TextModel model, int limit) {
        try (var in = AsciiWordPieceTest.class.getClassLoader().getResourceAsStream(model.resource())) {
            return AsciiWordPiece.of(in, limit).orElseThrow();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String fuzz(SplittableRandom random) {
        StringBuilder b = new StringBuilder();
        int len = random.nextInt(1, 400);
        while (b.length() < len) {
            switch (random.nextInt(10)) {
                case 0 -> b.append((char) random.nextInt(0, 128)); // any ASCII code, controls included
                case 1 -> b.append(' ');
                default -> {
                    int at = random.nextInt(PIECES.length() - 8);
                    b.append(PIECES, at, at + random.nextInt(1, 8));
                }
            }
        }
        if (random.nextInt(8) == 0) { // some texts get a non-ASCII character (to be declined)
            b.insert(random.nextInt(b.length() + 1), "\u00e9\u0301\u4e2d\u00a0".charAt(random.nextInt(4)));
        }
        return b.toString();
    }
}
