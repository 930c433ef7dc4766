package io.inflow.operators.tokenize;

import io.inflow.schemas.SourcedText;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * A decoded text with its token ids: what the tokenize step hands to the batching operator.
 *
 * <p>{@code new TokenizedText(input, tokenized.ids(), tokenized.truncated())}
 *
 * @param input the decoded event and where it came from
 * @param ids token ids, special tokens included, at most the tokenizer's limit
 * @param truncated whether the text was cut to the limit
 */
public record TokenizedText(SourcedText input, int[] ids, boolean truncated) implements Serializable {

    public TokenizedText {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(ids, "ids");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenizedText t && truncated == t.truncated && input.equals(t.input)
                && Arrays.equals(ids, t.ids);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * input.hashCode() + Arrays.hashCode(ids)) + Boolean.hashCode(truncated);
    }

    @Override
    public String toString() {
        return "TokenizedText[" + input.event().id() + ", " + ids.length + " tokens" + (truncated ? ", truncated" : "")
                + "]";
    }
}
