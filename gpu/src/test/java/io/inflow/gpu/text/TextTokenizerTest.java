package io.inflow.gpu.text;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TextTokenizerTest {

    private static TextTokenizer minilm;

    @BeforeAll
    static void load() {
        minilm = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, 16);
    }

    @AfterAll
    static void close() {
        minilm.close();
    }

    @Test
    void matchesBertUncasedVocabulary() {
        // ids from the bert-base-uncased vocabulary that all-MiniLM-L6-v2 ships: [CLS] a man is eating food . [SEP]
        Tokenized t = minilm.encode("A man is eating food.");
        assertThat(t.ids()).containsExactly(101, 1037, 2158, 2003, 5983, 2833, 1012, 102);
        assertThat(t.truncated()).isFalse();
    }

    @Test
    void truncatesToTheLimitAndSaysSo() {
        Tokenized t = minilm.encode("one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
                + " fifteen sixteen seventeen");
        assertThat(t.length()).isEqualTo(16);
        assertThat(t.truncated()).isTrue();
        assertThat(t.ids()[15]).as("the [SEP] token survives truncation").isEqualTo(102);
    }

    @Test
    void handlesNonLatinScriptsAndEmoji() {
        Tokenized t = minilm.encode("Привет 👋 東京");
        assertThat(t.ids()[0]).isEqualTo(101);
        assertThat(t.ids()[t.length() - 1]).isEqualTo(102);
        assertThat(t.length()).isGreaterThan(3);
    }

    @Test
    void rejectsLimitsOutsideTheModelRange() {
        assertThatThrownBy(() -> TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, 1024))
                .hasMessageContaining("between 2 and 512 (requested 1024)");
        assertThatThrownBy(() -> TextModel.byName("gpt-9")).hasMessageContaining("known: all-minilm-l6-v2");
    }

    /**
     * The lean native path ({@code encodeNative}: ids and overflow count only) equals DJL's full {@code Encoding} on real
     * sentences, on texts cut at the limit, and across both models, ids and truncation flag alike.
     */
    @Test
    void theLeanNativePathEqualsDjlsFullEncoding() throws Exception {
        java.util.List<String> texts = new java.util.ArrayList<>(io.inflow.gpu.testing.EvalSentences.load());
        texts.add("");
        texts.add("Grüße 👋 日本語のテキスト and a long tail " + "word ".repeat(600));
        for (TextModel model : TextModel.values()) {
            for (int limit : new int[] {16, 256}) {
                try (TextTokenizer t = TextTokenizer.load(model, limit)) {
                    int truncated = 0;
                    for (String text : texts) {
                        Tokenized lean = t.encodeNative(text);
                        Tokenized djl = t.encodeWithDjl(text);
                        assertThat(lean.ids()).as("%s/%d: %s", model, limit, text).isEqualTo(djl.ids());
                        assertThat(lean.truncated()).as("%s/%d: %s", model, limit, text).isEqualTo(djl.truncated());
                        truncated += lean.truncated() ? 1 : 0;
                    }
                    // negative control: both outcomes of the flag were compared
                    assertThat(truncated).as("texts cut at %d", limit).isPositive().isLessThan(texts.size());
                }
            }
        }
    }
}
