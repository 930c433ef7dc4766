package io.inflow.gpu.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Objects;

/**
 * A Hugging Face tokenizer ({@code tokenizer.json}) run through DJL's bundled native library, offline.
 *
 * <p>The tokenizer adds the model's special tokens and truncates to {@code maxTokens}; {@link Tokenized#truncated()}
 * says when it did, so truncation is never silent. Instances are thread-safe for {@link #encode(String)} and own
 * native memory: close them.
 *
 * <pre>{@code
 * try (TextTokenizer tok = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, 256)) {
 *     Tokenized t = tok.encode("A man is eating food.");   // [CLS] a man is eating food . [SEP]
 * }
 * }</pre>
 */
public final class TextTokenizer implements AutoCloseable {

    /** Longest sequence any BERT-family model here accepts (position-embedding table size). */
    public static final int MAX_SUPPORTED_TOKENS = 512;

    private final HuggingFaceTokenizer tokenizer;
    private final AsciiWordPiece ascii; // null: every text goes through the native tokenizer
    private final TextModel spec;
    private final int maxTokens;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, AsciiWordPiece ascii, TextModel spec, int maxTokens) {
        this.tokenizer = tokenizer;
        this.ascii = ascii;
        this.spec = spec;
        this.maxTokens = maxTokens;
    }

    /**
     * Loads the tokenizer named by {@code spec} from the classpath.
     *
     * @param maxTokens sequence limit including special tokens, 2..{@value #MAX_SUPPORTED_TOKENS}
     * @throws IllegalArgumentException when maxTokens is out of range or the resource is missing
     */
    public static TextTokenizer load(TextModel spec, int maxTokens) {
        Objects.requireNonNull(spec, "spec");
        if (maxTokens < 2 || maxTokens > MAX_SUPPORTED_TOKENS) {
            throw new IllegalArgumentException("maxTokens must be between 2 and " + MAX_SUPPORTED_TOKENS
                    + " (requested " + maxTokens + ")");
        }
        // DJL may otherwise try to reach its model zoo; everything we need is bundled.
        System.setProperty("ai.djl.offline", "true");
        ClassLoader loader = TextTokenizer.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(spec.resource())) {
            if (in == null) {
                throw new IllegalArgumentException("tokenizer resource '" + spec.resource() + "' for model '"
                        + spec.modelName() + "' is not on the classpath; add the model jar "
                        + spec.mavenCoordinates() + " as a dependency");
            }
            byte[] json = in.readAllBytes();
            Map<String, String> options = Map.of(
                    "addSpecialTokens", "true",
                    "truncation", "true",
                    "padding", "false",
                    "maxLength", Integer.toString(maxTokens));
            AsciiWordPiece ascii = AsciiWordPiece.of(new ByteArrayInputStream(json), maxTokens).orElse(null);
            HuggingFaceTokenizer hf = NativeTokenizerLibrary.run(() -> {
                try {
                    return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read tokenizer resource " + spec.resource(), e);
                }
            });
            return new TextTokenizer(hf, ascii, spec, maxTokens);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer resource " + spec.resource(), e);
        }
    }

    /**
     * Tokenizes one text; never returns more than {@link #maxTokens()} ids. An ASCII text goes through
     * {@link AsciiWordPiece} (the same ids, about ten times faster), any other through {@link #encodeNative}.
     */
    public Tokenized encode(String text) {
        if (ascii != null) {
            Tokenized t = ascii.encode(text);
            if (t != null) {
                return t;
            }
        }
        return encodeNative(text);
    }

    /** Whether ASCII texts take the Java path (the model's tokenizer.json has the BERT uncased WordPiece shape). */
    public boolean hasAsciiPath() {
        return ascii != null;
    }

    /**
     * Tokenizes through the native Hugging Face tokenizer, reading only the ids and the overflow count from the
     * native encoding (DJL's {@code encode} also builds the token strings, character spans, word ids and masks,
     * three times the work for what the batch needs); {@link #encodeWithDjl} is the same through DJL's full path,
     * kept as the reference the tests compare with.
     */
    public Tokenized encodeNative(String text) {
        long encoding = TokenizersLibrary.LIB.encode(tokenizer.getHandle(), text, true);
        try {
            long[] ids = TokenizersLibrary.LIB.getTokenIds(encoding);
            int[] out = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                out[i] = Math.toIntExact(ids[i]);
            }
            return new Tokenized(out, TokenizersLibrary.LIB.getOverflowCount(encoding) > 0);
        } finally {
            TokenizersLibrary.LIB.deleteEncoding(encoding);
        }
    }

    /** {@link #encode} through DJL's full {@code Encoding} (the reference). */
    public Tokenized encodeWithDjl(String text) {
        Encoding encoding = tokenizer.encode(text);
        long[] ids = encoding.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return new Tokenized(out, encoding.exceedMaxLength());
    }

    /** The sequence limit, special tokens included. */
    public int maxTokens() {
        return maxTokens;
    }

    /** What was loaded. */
    public TextModel spec() {
        return spec;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
