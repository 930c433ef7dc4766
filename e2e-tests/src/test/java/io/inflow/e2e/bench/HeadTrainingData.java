package io.inflow.e2e.bench;

import io.inflow.gpu.text.TextModel;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Exports the training data of the ColBERT projection heads (not a test, not committed): for the WordNet training split
 * ({@link WordNetNouns#training}: noun synsets not held out by {@link RetrievalQuality}, at most {@code cap}, thinned
 * evenly), each synset's first lemma (the query) and gloss definition (its relevant document) through
 * all-minilm-l6-v2, keeping every token's last-layer state <em>as the head will see it</em>: raw, not normalised
 * ({@link io.inflow.gpu.encoder.TextEncoder#encodeWithTokens} with no head and {@code normalizeTokens = false}; the
 * heads run on these states and only their output is normalised). {@code [CLS]} and {@code [SEP]} included.
 *
 * <p>Files in {@code out}: {@code queries.f16} and {@code docs.f16} (float16 little-endian, {@code [tokens, 384]}),
 * {@code queries.offsets.i32} and {@code docs.offsets.i32} (int32 little-endian, {@code count + 1} token offsets:
 * text {@code i} owns tokens {@code [off[i], off[i+1])}), {@code synsets.tsv} (offset, lemma, gloss) and
 * {@code index.json}. Query {@code i}'s relevant document is document {@code i}.
 *
 * <pre>
 * mvn -B -q -pl e2e-tests -am -Pbench -DskipTests process-test-classes \
 *     -Dbench.main=io.inflow.e2e.bench.HeadTrainingData -Dbench.args="/tmp/colbert-heads-data cap=20000"
 * </pre>
 */
public final class HeadTrainingData {
    private static final int EVERY = 16;
    private static final int CHUNK = 2048;

    private HeadTrainingData() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "/tmp/colbert-heads-data");
        int cap = 20_000;
        for (String a : args) {
            if (a.startsWith("cap=")) {
                cap = Integer.parseInt(a.substring(4));
            }
        }
        int status = 0;
        try {
            export(out, cap);
        } catch (Throwable e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    static void export(Path out, int cap) throws Exception {
        List<WordNetNouns.Synset> train = WordNetNouns.training(EVERY, cap);
        Files.createDirectories(out);
        long t0 = System.nanoTime();
        int[] qOff = new int[train.size() + 1];
        int[] dOff = new int[train.size() + 1];
        int dim = 0;
        try (TokenTexts enc = TokenTexts.open(TextModel.ALL_MINILM_L6_V2);
                OutputStream q = new BufferedOutputStream(Files.newOutputStream(out.resolve("queries.f16")), 1 << 20);
                OutputStream d = new BufferedOutputStream(Files.newOutputStream(out.resolve("docs.f16")), 1 << 20)) {
            for (int from = 0; from < train.size(); from += CHUNK) {
                List<WordNetNouns.Synset> part = train.subList(from, Math.min(train.size(), from + CHUNK));
                TokenTexts.Encoded qs = enc.encode(part.stream().map(WordNetNouns.Synset::lemma).toList(), null, false);
                TokenTexts.Encoded ds = enc.encode(part.stream().map(WordNetNouns.Synset::gloss).toList(), null, false);
                dim = qs.dim();
                for (int i = 0; i < part.size(); i++) {
                    int k = from + i;
                    qOff[k + 1] = qOff[k] + qs.tokenCount(i);
                    dOff[k + 1] = dOff[k] + ds.tokenCount(i);
                    q.write(half(qs.tokens()[i]));
                    d.write(half(ds.tokens()[i]));
                }
                System.err.printf("%d / %d synsets (%.0f s)%n", from + part.size(), train.size(),
                        (System.nanoTime() - t0) / 1e9);
            }
        }
        writeInts(out.resolve("queries.offsets.i32"), qOff);
        writeInts(out.resolve("docs.offsets.i32"), dOff);
        StringBuilder tsv = new StringBuilder();
        for (WordNetNouns.Synset s : train) {
            tsv.append(s.offset()).append('\t').append(s.lemma()).append('\t').append(s.gloss()).append('\n');
        }
        Files.writeString(out.resolve("synsets.tsv"), tsv, StandardCharsets.UTF_8);
        Files.writeString(out.resolve("index.json"), "{\n"
                + "  \"model\": \"all-minilm-l6-v2\",\n"
                + "  \"tokens\": \"last-layer state per non-padding token ([CLS] and [SEP] included), not normalised\",\n"
                + "  \"split\": \"WordNet 3.0 noun synsets, gloss definition of 5+ words, not every " + EVERY
                + "th (held out), thinned evenly to at most " + cap + "\",\n"
                + "  \"count\": " + train.size() + ",\n"
                + "  \"dim\": " + dim + ",\n"
                + "  \"dtype\": \"float16\",\n"
                + "  \"queryTokens\": " + qOff[train.size()] + ",\n"
                + "  \"docTokens\": " + dOff[train.size()] + ",\n"
                + "  \"files\": {\"queries\": \"queries.f16\", \"queryOffsets\": \"queries.offsets.i32\", "
                + "\"docs\": \"docs.f16\", \"docOffsets\": \"docs.offsets.i32\", \"synsets\": \"synsets.tsv\"}\n"
                + "}\n");
        System.out.printf("%d training synsets: %d query tokens, %d document tokens of %d dims -> %s (%.0f s)%n",
                train.size(), qOff[train.size()], dOff[train.size()], dim, out, (System.nanoTime() - t0) / 1e9);
    }

    private static byte[] half(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putShort(toHalf(x));
        }
        return b.array();
    }

    /** IEEE float16, round to nearest even; overflow to infinity, underflow through subnormals to zero. */
    static short toHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) {
            return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign;
            }
            mant |= 0x800000;
            int shift = 14 - e;
            int h = mant >> shift;
            int rem = mant & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rem > halfway || (rem == halfway && (h & 1) != 0)) {
                h++;
            }
            return (short) (sign | h);
        }
        int h = (e << 10) | (mant >> 13);
        int rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
            h++; // may carry into the exponent, which is the right rounding (up to infinity)
        }
        return (short) (sign | h);
    }

    private static void writeInts(Path p, int[] v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) {
            b.putInt(x);
        }
        Files.write(p, b.array());
    }
}
