package io.inflow.gpu.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The BERT uncased WordPiece tokenizer of a {@code tokenizer.json}, in Java, for texts made only of ASCII characters:
 * the same ids as the Hugging Face tokenizer, about ten times faster (no native call, no token strings, offsets or
 * overflow encodings, and it stops reading once the text is known to be truncated).
 *
 * <p>It covers exactly the pipeline the BERT family declares ({@code BertNormalizer} with lowercasing, clean-text and
 * Chinese-character handling; {@code BertPreTokenizer}; {@code WordPiece} with the {@code ##} prefix;
 * {@code [CLS] A [SEP]}), restricted to ASCII, where every step is simple and exact: control characters dropped
 * (tab, newline and carriage return are spaces), A-Z lowercased, every ASCII punctuation mark a word of its own,
 * greedy longest-match-first pieces, a word over {@code max_input_chars_per_word} or with no matching piece is
 * {@code [UNK]}. Accent stripping, Chinese-character spacing and Unicode categories only concern non-ASCII
 * characters, so {@link #encode} declines (returns {@code null}) any text with a character above U+007F, and any
 * text holding an added token's content (the Hugging Face tokenizer matches {@code [MASK]} etc. in the raw text);
 * the caller then uses the native tokenizer. {@link #of} declines a tokenizer.json of any other shape.
 *
 * <pre>{@code
 * Optional<AsciiWordPiece> fast = AsciiWordPiece.of(tokenizerJsonStream, 256);
 * Tokenized t = fast.get().encode("A man is eating food.");   // null when the text needs the native tokenizer
 * }</pre>
 *
 * <p>Thread-safe: the tables are read-only and each call uses its own buffers.
 */
public final class AsciiWordPiece {

    private final AsciiVocab words;
    private final AsciiVocab continuations;
    private final int cls;
    private final int sep;
    private final int unk;
    private final int maxCharsPerWord;
    private final int maxTokens;
    /** Contents of the added tokens, matched in the raw text (case-sensitive). */
    private final String[] addedTokens;
    /** Bit c set when some added token starts with ASCII character c. */
    private final long[] addedFirst = new long[2];

    private AsciiWordPiece(AsciiVocab words, AsciiVocab continuations, int cls, int sep, int unk,
            int maxCharsPerWord, int maxTokens, String[] addedTokens) {
        this.words = words;
        this.continuations = continuations;
        this.cls = cls;
        this.sep = sep;
        this.unk = unk;
        this.maxCharsPerWord = maxCharsPerWord;
        this.maxTokens = maxTokens;
        this.addedTokens = addedTokens;
        for (String a : addedTokens) {
            char c = a.charAt(0);
            if (c < 128) {
                addedFirst[c >> 6] |= 1L << (c & 63);
            }
        }
    }

    /**
     * Reads a {@code tokenizer.json}; empty when it is not the BERT uncased WordPiece shape this class reproduces
     * exactly (the native tokenizer is then the only path).
     *
     * @param maxTokens sequence limit including {@code [CLS]} and {@code [SEP]}, at least 2
     */
    public static Optional<AsciiWordPiece> of(InputStream tokenizerJson, int maxTokens) {
        if (maxTokens < 2) {
            throw new IllegalArgumentException("maxTokens must be at least 2 (was " + maxTokens + ")");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(tokenizerJson);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer.json", e);
        }
        return Optional.ofNullable(fromJson(root, maxTokens));
    }

    private static AsciiWordPiece fromJson(JsonNode root, int maxTokens) {
        JsonNode norm = root.path("normalizer");
        boolean bertNormalizer = "BertNormalizer".equals(norm.path("type").asText())
                && norm.path("lowercase").asBoolean(false)
                && norm.path("clean_text").asBoolean(false)
                // strip_accents null follows lowercase; either way it only touches non-ASCII characters
                && (norm.path("strip_accents").isNull() || norm.path("strip_accents").isBoolean());
        JsonNode model = root.path("model");
        boolean shape = bertNormalizer
                && "BertPreTokenizer".equals(root.path("pre_tokenizer").path("type").asText())
                && "WordPiece".equals(model.path("type").asText())
                && "##".equals(model.path("continuing_subword_prefix").asText());
        if (!shape || !clsTemplate(root.path("post_processor"))) {
            return null;
        }
        JsonNode vocab = model.path("vocab");
        Integer unk = idOf(vocab, model.path("unk_token").asText());
        Integer cls = idOf(vocab, "[CLS]");
        Integer sep = idOf(vocab, "[SEP]");
        if (unk == null || cls == null || sep == null) {
            return null;
        }
        List<String> added = new ArrayList<>();
        for (JsonNode a : root.path("added_tokens")) {
            if (a.path("normalized").asBoolean(false) || a.path("content").asText().isEmpty()) {
                return null; // matched after normalization: not reproduced here
            }
            added.add(a.path("content").asText());
        }
        AsciiVocab.Builder wordTable = new AsciiVocab.Builder();
        AsciiVocab.Builder pieceTable = new AsciiVocab.Builder();
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String token = e.getKey();
            if (!isAscii(token)) {
                continue; // never matched by an ASCII text
            }
            int id = e.getValue().asInt();
            wordTable.put(token, id);
            if (token.startsWith("##") && token.length() > 2) {
                pieceTable.put(token.substring(2), id);
            }
        }
        return new AsciiWordPiece(wordTable.build(), pieceTable.build(), cls, sep, unk,
                model.path("max_input_chars_per_word").asInt(100), maxTokens, added.toArray(String[]::new));
    }

    private static boolean clsTemplate(JsonNode post) {
        if (!"TemplateProcessing".equals(post.path("type").asText())) {
            return false;
        }
        JsonNode single = post.path("single");
        return single.size() == 3
                && "[CLS]".equals(single.get(0).path("SpecialToken").path("id").asText())
                && "A".equals(single.get(1).path("Sequence").path("id").asText())
                && "[SEP]".equals(single.get(2).path("SpecialToken").path("id").asText());
    }

    private static Integer idOf(JsonNode vocab, String token) {
        JsonNode n = vocab.get(token);
        return n == null ? null : n.asInt();
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 128) {
                return false;
            }
        }
        return true;
    }

    /** The sequence limit, special tokens included. */
    public int maxTokens() {
        return maxTokens;
    }

    /**
     * Tokenizes an ASCII text: {@code [CLS]}, the pieces (at most {@code maxTokens - 2}), {@code [SEP]}; truncated
     * when more pieces existed.
     *
     * @return the ids, or {@code null} when the text has a non-ASCII character or an added token's content (use the
     *     native tokenizer)
     */
    public Tokenized encode(String text) {
        if (hasAddedToken(text)) {
            return null;
        }
        int n = text.length();
        int limit = maxTokens - 2;
        int[] ids = new int[Math.min(maxTokens, n + 2)]; // a character yields at most one piece
        byte[] word = new byte[maxCharsPerWord];
        int[] pieces = new int[maxCharsPerWord];
        int count = 0;
        ids[count++] = cls;
        int wordChars = 0; // may exceed word.length: a word over the limit is only counted
        boolean truncated = false;
        int i = 0;
        for (; i <= n; i++) {
            char c = i < n ? text.charAt(i) : ' ';
            if (c >= 128) {
                return null;
            }
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) {
                if (wordChars < word.length) {
                    word[wordChars] = (byte) (c <= 'Z' && c >= 'A' ? c + ('a' - 'A') : c);
                }
                wordChars++;
                continue;
            }
            if (removed(c)) {
                continue; // clean-text drops control characters without splitting the word
            }
            if (wordChars > 0) { // a space or a punctuation mark ends the word
                int p = pieces(word, wordChars, pieces);
                wordChars = 0;
                for (int j = 0; j < p; j++) {
                    if (count - 1 == limit) {
                        truncated = true;
                        break;
                    }
                    ids[count++] = pieces[j];
                }
                if (truncated) {
                    break;
                }
            }
            if (c > ' ' && c < 127) { // ASCII punctuation: a word of its own
                if (count - 1 == limit) {
                    truncated = true;
                    break;
                }
                word[0] = (byte) c;
                int id = words.get(word, 0, 1);
                ids[count++] = id >= 0 ? id : unk;
            }
        }
        for (; i < n; i++) { // a later non-ASCII character could join the last word kept (an accent, a letter)
            if (text.charAt(i) >= 128) {
                return null;
            }
        }
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count + 1);
        }
        ids[count++] = sep;
        return new Tokenized(count == ids.length ? ids : Arrays.copyOf(ids, count), truncated);
    }

    /** Characters BERT's clean-text removes: NUL and the ASCII controls other than tab, newline, carriage return. */
    private static boolean removed(char c) {
        return (c < ' ' && c != '\t' && c != '\n' && c != '\r') || c == 127;
    }

    /** The WordPiece pieces of one lowercased word into {@code out}; a single {@code [UNK]} when none fits. */
    private int pieces(byte[] word, int len, int[] out) {
        if (len > maxCharsPerWord) {
            out[0] = unk;
            return 1;
        }
        int k = 0;
        int start = 0;
        while (start < len) {
            AsciiVocab table = start == 0 ? words : continuations;
            int end = Math.min(len, start + table.maxKeyLength());
            int id = -1;
            while (end > start && (id = table.get(word, start, end)) < 0) {
                end--;
            }
            if (id < 0) {
                out[0] = unk; // no piece matches here: the whole word is [UNK]
                return 1;
            }
            out[k++] = id;
            start = end;
        }
        return k;
    }

    private boolean hasAddedToken(String text) {
        for (String a : addedTokens) {
            char c = a.charAt(0);
            if (c >= 128 || (addedFirst[c >> 6] & (1L << (c & 63))) != 0) {
                if (text.indexOf(a) >= 0) {
                    return true;
                }
            }
        }
        return false;
    }
}
