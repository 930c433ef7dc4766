package io.inflow.sql;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.operators.runtime.ArrowMemory;
import io.inflow.operators.runtime.ArrowMemoryOptions;
import io.inflow.operators.score.ScoredRows;
import io.inflow.operators.score.TextScorer;
import io.inflow.schemas.EnrichedEvent;

import java.util.List;

/**
 * The DataStream pipeline's scorer for a list of texts: the scorer's encoder's tokenizer (truncating to the scorer's
 * limit, as {@code TextScorer} truncates the job's tokens) packs them into Arrow {@link TokenBatch}es of similar
 * length ({@link LengthGroups}), and {@link TextScorer} (float32, or the process's shared integer encoder at int8 /
 * mixed) scores each. Not thread-safe: one compute thread uses it.
 *
 * <pre>{@code
 * try (TextClassifier c = TextClassifier.open(settings, "ml-predict-0")) {
 *     TextClassifier.Result r = c.classify(List.of("WIN a FREE prize now"));
 *     String label = r.labels()[0];   // spam
 * }
 * }</pre>
 */
final class TextClassifier implements AutoCloseable {

    /**
     * One batch's answers.
     *
     * @param labels the top label per text, null where a probability was not finite
     * @param scores its probability
     * @param truncated texts cut to the token limit
     */
    record Result(String[] labels, float[] scores, long realTokens, long paddedTokens, int truncated) {
    }

    private final TextTokenizer tokenizer;
    private final TextScorer scorer;
    private final ArrowMemory.Child memory;
    private final int maxTokens;

    private TextClassifier(TextTokenizer tokenizer, TextScorer scorer, ArrowMemory.Child memory, int maxTokens) {
        this.tokenizer = tokenizer;
        this.scorer = scorer;
        this.memory = memory;
        this.maxTokens = maxTokens;
    }

    static TextClassifier open(ClassificationModelSettings settings, String name) throws Exception {
        TextTokenizer tokenizer = TextTokenizer.load(settings.encoder().model(), settings.maxTokens());
        TextScorer scorer = null;
        try {
            scorer = TextScorer.open(settings.scorer(), settings.encoder(), null);
            ArrowMemory.Child memory = ArrowMemory.child(name, ArrowMemoryOptions.MAX_BYTES.defaultValue().getBytes());
            return new TextClassifier(tokenizer, scorer, memory, settings.maxTokens());
        } catch (Exception | Error e) {
            tokenizer.close();
            if (scorer != null) {
                scorer.close();
            }
            throw e;
        }
    }

    /** The scorer's version and precision, e.g. {@code 1/int8}. */
    String version() {
        return scorer.ref().version() + "/" + scorer.ref().precision();
    }

    /** Tokenizes and scores {@code texts} (none null), in sub-batches of similar length ({@link LengthGroups}). */
    Result classify(List<String> texts) throws Exception {
        int n = texts.size();
        LengthGroups.Texts tokenized = LengthGroups.Texts.tokenize(tokenizer, texts);
        Tokenized[] tokens = tokenized.tokens();
        int truncated = tokenized.truncated();
        String[] labels = new String[n];
        float[] scores = new float[n];
        long real = 0;
        long padded = 0;
        for (LengthGroups.Group g : LengthGroups.of(tokens, maxTokens)) {
            try (TokenBatch batch = g.batch(memory.allocator(), tokens)) {
                ScoredRows scored = scorer.score(batch, null);
                int k = scored.labels().size();
                for (int r = 0; r < g.rows().length; r++) {
                    boolean finite = true;
                    for (int c = 0; c < k; c++) {
                        finite &= Float.isFinite(scored.probabilities()[r * k + c]);
                    }
                    if (finite) {
                        EnrichedEvent.Score top = scored.row(r).get(0); // highest first, ties keep the label order
                        labels[g.rows()[r]] = top.label();
                        scores[g.rows()[r]] = (float) top.score();
                    }
                }
                real += batch.realTokens();
                padded += batch.paddedTokens();
            }
        }
        return new Result(labels, scores, real, padded, truncated);
    }

    @Override
    public void close() throws Exception {
        try {
            scorer.close();
            tokenizer.close();
        } finally {
            memory.close();
        }
    }
}
