package io.inflow.gpu.quant;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.cluster.WordNetGlosses;
import io.inflow.gpu.encoder.BertEncoder;
import io.inflow.gpu.encoder.BertWeights;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.onnx.OnnxBertWeights;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.ModelTokenizer;
import io.inflow.gpu.testing.TokenBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Retrieval quality of quantized MiniLM embeddings with real relevance judgments (a benchmark, not a test): the
 * retrieval issue's WordNet set (Debian {@code wordnet-base}): every {@code every}-th noun synset whose gloss has at
 * least 5 words; documents are the glosses, queries the synsets' first lemmas, the one relevant document a query's
 * own gloss. Exact cosine search; nDCG@10 and MRR@10 for float32, integer-only INT8 and mixed INT4/INT8 (85%).
 *
 * <pre>
 * mvn -B -q -pl gpu -am -Pbench test-compile exec:exec -Dbench.main=io.inflow.gpu.quant.Int8RetrievalQuality \
 *     -Dbench.args="every=16"
 * </pre>
 */
public final class Int8RetrievalQuality {
    private Int8RetrievalQuality() {
    }

    public static void main(String[] args) throws Exception {
        int every = 16;
        for (String a : args) {
            if (a.startsWith("every=")) {
                every = Integer.parseInt(a.substring(6));
            } else {
                throw new IllegalArgumentException("unknown argument " + a + " (every=)");
            }
        }
        List<WordNetGlosses.Synset> all = WordNetGlosses.read(WordNetGlosses.DATA_NOUN);
        List<String> docs = new ArrayList<>();
        List<String> queries = new ArrayList<>();
        for (int i = 0; i < all.size(); i += every) {
            WordNetGlosses.Synset s = all.get(i);
            if (s.definition().trim().split("\\s+").length >= 5) {
                docs.add(s.definition());
                queries.add(s.lemma());
            }
        }
        System.out.printf("WordNet 3.0 nouns, every %d-th: %d documents and queries%n", every, docs.size());
        OnnxBertWeights w = MiniLmInt8Fixture.weights();
        BertConfig c = w.inferConfig();
        try (Backend backend = new FastCpuBackend(null, 2);
             ModelTokenizer tok = ModelTokenizer.fromResource(MiniLmInt8Fixture.MODEL + "-tokenizer.json", 128);
             BertWeights fw = BertWeights.load(w, c, backend);
             BertEncoder floatEnc = new BertEncoder(backend, c, fw)) {
            report("float32", embed(backend, tok, docs, (ids) -> floatEnc.forward(ids[0], ids[1], null)),
                    embed(backend, tok, queries, (ids) -> floatEnc.forward(ids[0], ids[1], null)), c.hidden());
            TokenBatch cal = tok.batch(MiniLmInt8Fixture.calibrationTexts(64));
            Int8Bert q8 = BertQuantizer.quantize(w, c, cal.ids(), cal.lengths(), cal.batch(), cal.seq(), backend,
                    CalibrationOptions.defaults(), null);
            MixedPrecision.Plan plan = MixedPrecision.plan(q8, w, c, 0.85);
            Int8Bert mixed = BertQuantizer.quantize(w, c, cal.ids(), cal.lengths(), cal.batch(), cal.seq(), backend,
                    CalibrationOptions.defaults(), plan.bits(), null);
            for (Int8Bert q : List.of(q8, mixed)) {
                try (Int8BertEncoder enc = new Int8BertEncoder(backend, q)) {
                    String name = q == q8 ? "INT8" : "mixed INT4/INT8 " + java.util.Arrays.toString(plan.bits());
                    report(name, embed(backend, tok, docs, ids -> enc.forward(ids[0], ids[1])),
                            embed(backend, tok, queries, ids -> enc.forward(ids[0], ids[1])), c.hidden());
                }
            }
        }
    }

    /** Mean-pooled, L2-normalised embeddings {@code [n, d]}, batches of 32. */
    static float[] embed(Backend backend, ModelTokenizer tok, List<String> texts, Function<Tensor[], Tensor> forward) {
        int d = 384;
        float[] out = new float[texts.size() * d];
        long t0 = System.nanoTime();
        for (int start = 0; start < texts.size(); start += 32) {
            TokenBatch tb = tok.batch(texts.subList(start, Math.min(texts.size(), start + 32)));
            try (Tensor ids = backend.upload(tb.ids(), tb.batch(), tb.seq());
                 Tensor len = backend.upload(tb.lengths(), tb.batch())) {
                float[] h = forward.apply(new Tensor[] {ids, len}).toFloatArray();
                for (int r = 0; r < tb.batch(); r++) {
                    double norm = 0;
                    float[] v = new float[d];
                    for (int t = 0; t < tb.lengths()[r]; t++) {
                        for (int j = 0; j < d; j++) {
                            v[j] += h[(r * tb.seq() + t) * d + j];
                        }
                    }
                    for (float x : v) {
                        norm += (double) x * x;
                    }
                    for (int j = 0; j < d; j++) {
                        out[(start + r) * d + j] = (float) (v[j] / Math.sqrt(norm));
                    }
                }
            }
        }
        System.out.printf("  embedded %d texts in %.1f s%n", texts.size(), (System.nanoTime() - t0) / 1e9);
        return out;
    }

    static void report(String name, float[] docs, float[] queries, int d) {
        int n = docs.length / d;
        double ndcg = 0;
        double mrr = 0;
        for (int q = 0; q < n; q++) {
            double own = dot(queries, q, docs, q, d);
            int rank = 1;
            for (int j = 0; j < n; j++) {
                double s = dot(queries, q, docs, j, d);
                if (j != q && (s > own || s == own && j < q)) {
                    rank++;
                }
            }
            if (rank <= 10) {
                ndcg += 1 / (Math.log(rank + 1) / Math.log(2));
                mrr += 1.0 / rank;
            }
        }
        System.out.printf("%-32s nDCG@10 %.4f  MRR@10 %.4f  (%d queries)%n", name, ndcg / n, mrr / n, n);
    }

    static double dot(float[] a, int i, float[] b, int j, int d) {
        double s = 0;
        for (int k = 0; k < d; k++) {
            s += (double) a[i * d + k] * b[j * d + k];
        }
        return s;
    }
}
