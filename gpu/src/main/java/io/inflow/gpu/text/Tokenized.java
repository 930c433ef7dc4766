package io.inflow.gpu.text;

/**
 * One text after tokenization: the token ids the encoder sees (special tokens included, already truncated to the
 * tokenizer's limit) and whether truncation happened.
 *
 * <p>{@code Tokenized t = tokenizer.encode("A man is eating food."); int n = t.length();}
 *
 * @param ids token ids, {@code [CLS] ... [SEP]} for BERT-family tokenizers, never longer than the tokenizer's limit
 * @param truncated true when the text had more tokens than the limit and the tail was cut
 */
public record Tokenized(int[] ids, boolean truncated) {

    /** Number of tokens, special tokens included. */
    public int length() {
        return ids.length;
    }
}
