package io.inflow.operators.tokenize;

import io.inflow.schemas.SourcedText;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * A decoded text with its token ids: what the tokenize step hands to the batching operator. A text the tokenizer
 * threw on carries the failure instead of ids; the batching operator dead-letters it ({@code tokenize_failed}) with
 * the raw record the input holds.
 *
 * <p>{@code new TokenizedText(input, tokenized.ids(), tokenized.truncated())}, {@code TokenizedText.failed(input, "...")}
 *
 * @param input the decoded event and where it came from
 * @param ids token ids, special tokens included, at most the tokenizer's limit; empty when failed
 * @param truncated whether the text was cut to the limit
 * @param failure why the tokenizer failed on this text, null when it did not
 */
public record TokenizedText(SourcedText input, int[] ids, boolean truncated, String failure) implements Serializable {

    public TokenizedText {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(ids, "ids");
    }

    /** A tokenized text. */
    public TokenizedText(SourcedText input, int[] ids, boolean truncated) {
        this(input, ids, truncated, null);
    }

    /** A text the tokenizer failed on. */
    public static TokenizedText failed(SourcedText input, String failure) {
        return new TokenizedText(input, new int[0], false, Objects.requireNonNull(failure, "failure"));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenizedText t && truncated == t.truncated && input.equals(t.input)
                && Arrays.equals(ids, t.ids) && Objects.equals(failure, t.failure);
    }

    @Override
    public int hashCode() {
        return Objects.hash(input, Arrays.hashCode(ids), truncated, failure);
    }

    @Override
    public String toString() {
        return "TokenizedText[" + input.event().id() + ", " + ids.length + " tokens" + (truncated ? ", truncated" : "")
                + (failure == null ? "" : ", failed: " + failure)
                + "]";
    }
}
