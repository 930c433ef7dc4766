package io.inflow.gpu.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The evaluation sentences ({@code sentences/eval-sentences.txt}, one per line): real-looking text of 1 to
 * 256+ tokens, several languages, emoji, numbers, code.
 *
 * <p>{@code List<String> all = EvalSentences.load();}
 */
public final class EvalSentences {
    private EvalSentences() {
    }

    public static List<String> load() throws IOException {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                EvalSentences.class.getClassLoader().getResourceAsStream("sentences/eval-sentences.txt"),
                StandardCharsets.UTF_8))) {
            return r.lines().filter(l -> !l.isBlank()).toList();
        }
    }
}
