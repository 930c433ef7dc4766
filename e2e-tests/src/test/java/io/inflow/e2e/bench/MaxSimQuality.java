package io.inflow.e2e.bench;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.head.BundledHeads;
import io.inflow.gpu.head.Head;
import io.inflow.gpu.head.HeadConfig;
import io.inflow.gpu.head.Heads;
import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TokenQueries;
import io.inflow.gpu.retrieval.TokenSet;
import io.inflow.gpu.retrieval.TokenStorage;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.retrieval.VectorChunk;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.text.TextModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Two-stage retrieval quality on {@link RetrievalQuality}'s WordNet held-out split (lemma -> its synset's gloss), with
 * all-minilm-l6-v2 (not a test): stage 1 is exact single-vector cosine search (float32) for the top {@link #N}
 * glosses; stage 2 reorders those {@code N} by MaxSim over per-token vectors ({@code backend.retrieval().maxSim}, fast
 * CPU backend), with no head (the last layer's states, normalised) or with each bundled projection head
 * ({@link BundledHeads}: classpath resources {@code models/colbert-heads/all-minilm-l6-v2/<variant>.safetensors},
 * trained on the disjoint training split by {@code gpu/scripts/train-colbert-heads.py}), tokens stored float32; then
 * the best head (by MRR@10 here) and no head with int8 and 1-bit token storage. Prints a Markdown table of MRR@10,
 * nDCG@10, recall@10 and recall@100 (which a rerank of the top 100 cannot change).
 *
 * <p>Each text is encoded once ({@code TextEncoder.encodeWithTokens} with no head, raw states); a head is applied
 * to those raw states with {@link Head#apply} on the CPU backend, which is what the encoder does with a token head
 * ({@code TextEncoderTokensTest} checks the equality), then every token is L2-normalised.
 *
 * <pre>
 * sudo apt-get install wordnet-base
 * mvn -B -q -pl e2e-tests -am -Pbench -DskipTests process-test-classes \
 *     -Dbench.main=io.inflow.e2e.bench.RetrievalQuality -Dbench.args="every=16 parts=maxsim"
 * </pre>
 */
final class MaxSimQuality {
    /** Stage-1 candidates per query. */
    static final int N = 100;
    private static final int DIM = 384;
    private static final String MODEL = "all-minilm-l6-v2";

    private MaxSimQuality() {
    }

    /** {@code heads}: the bundled heads to compare (variant names, comma-separated), or {@code all}. */
    static void run(int every, String headsArg) throws Exception {
        List<WordNetNouns.Synset> split = WordNetNouns.heldOut(every);
        long t0 = System.nanoTime();
        TokenTexts.Encoded docs;
        TokenTexts.Encoded queries;
        try (TokenTexts enc = TokenTexts.open(TextModel.ALL_MINILM_L6_V2)) {
            docs = enc.encode(split.stream().map(WordNetNouns.Synset::gloss).toList(), null, false);
            queries = enc.encode(split.stream().map(WordNetNouns.Synset::lemma).toList(), null, false);
        }
        System.err.printf("(%d texts encoded with their tokens in %.1f s)%n", 2 * split.size(),
                (System.nanoTime() - t0) / 1e9);
        int n = split.size();
        int[][] candidates = singleVector(docs.pooled(), queries.pooled());
        System.out.println();
        System.out.printf("WordNet 3.0 nouns, held-out split (every %dth synset with a gloss of 5+ words): %d queries"
                + " (lemma) against %d glosses; all-minilm-l6-v2; stage 1 exact cosine, stage 2 MaxSim over the top %d%n%n",
                every, n, n, N);
        System.out.println("| retrieval | token head | token storage | MRR@10 | nDCG@10 | recall@10 | recall@100 |");
        System.out.println("|---|---|---|---|---|---|---|");
        row("single-vector cosine", "-", "-", metrics(candidates));
        try (Backend cpu = Backends.create(BackendKind.CPU, 2)) {
            double best = -1;
            String bestHead = null;
            StringBuilder timings = new StringBuilder("(MaxSim rerank, float32 tokens:");
            List<String> heads = new ArrayList<>();
            String headNames = headsArg;
            heads.add(null);
            for (String h : BundledHeads.VARIANTS) {
                if (headNames.equals("all") || Arrays.asList(headNames.split(",")).contains(h)) {
                    heads.add(h);
                }
            }
            for (String h : heads) {
                long t1 = System.nanoTime();
                double[] m = rerank(cpu, h, TokenStorage.FLOAT32, docs, queries, candidates);
                row("+ MaxSim rerank top " + N, h == null ? "none" : h, "float32", m);
                timings.append(String.format(Locale.ROOT, " %s %.1f s", h == null ? "none" : h,
                        (System.nanoTime() - t1) / 1e9));
                if (h != null && m[0] > best) {
                    best = m[0];
                    bestHead = h;
                }
            }
            System.out.flush();
            System.err.println(timings.append(')'));   // on stderr after the rows, so a shared log keeps them whole
            for (String h : bestHead == null ? Arrays.asList((String) null) : Arrays.asList(null, bestHead)) {
                for (TokenStorage s : List.of(TokenStorage.INT8, TokenStorage.BIT1)) {
                    row("+ MaxSim rerank top " + N, h == null ? "none" : h + " (best)",
                            s.name().toLowerCase(Locale.ROOT), rerank(cpu, h, s, docs, queries, candidates));
                }
            }
        }
    }

    private static void row(String retrieval, String head, String storage, double[] m) {
        System.out.printf("| %s | %s | %s | %.3f | %.3f | %.3f | %.3f |%n", retrieval, head, storage, m[0], m[1], m[2],
                m[3]);
    }

    /** Exact cosine top {@link #N} (float32 storage): per query, document indices best first. */
    private static int[][] singleVector(float[][] docs, float[][] queries) {
        List<VectorChunk> chunks = new ArrayList<>();
        for (int i = 0; i < docs.length; i++) {
            if (i % 4096 == 0) {
                chunks.add(new VectorChunk(Storage.FLOAT32, DIM, 4096));
            }
            chunks.get(chunks.size() - 1).append(docs[i], 0, i, VectorChunk.NO_FILTER_CODE);
        }
        int[][] out = new int[queries.length][];
        try (Backend cpu = Backends.create(BackendKind.CPU, 2)) {
            for (int from = 0; from < queries.length; from += 64) {
                int m = Math.min(64, queries.length - from);
                float[] q = new float[m * DIM];
                for (int i = 0; i < m; i++) {
                    System.arraycopy(queries[from + i], 0, q, i * DIM, DIM);
                }
                TopK top = cpu.retrieval().search(chunks, new SearchRequest(q, m, DIM, N, Metric.COSINE, null));
                for (int i = 0; i < m; i++) {
                    out[from + i] = new int[top.hits(i)];
                    for (int r = 0; r < top.hits(i); r++) {
                        out[from + i][r] = top.chunk(i, r) * 4096 + top.row(i, r);
                    }
                }
            }
        }
        return out;
    }

    /** MRR@10, nDCG@10, recall@10, recall@100 of ranked lists; query i's relevant document is document i. */
    static double[] metrics(int[][] ranked) {
        double mrr = 0;
        double ndcg = 0;
        int at10 = 0;
        int at100 = 0;
        for (int q = 0; q < ranked.length; q++) {
            for (int r = 0; r < Math.min(100, ranked[q].length); r++) {
                if (ranked[q][r] == q) {
                    if (r < 10) {
                        mrr += 1.0 / (r + 1);
                        ndcg += 1.0 / (Math.log(r + 2) / Math.log(2));
                        at10++;
                    }
                    at100++;
                    break;
                }
            }
        }
        int n = ranked.length;
        return new double[] {mrr / n, ndcg / n, (double) at10 / n, (double) at100 / n};
    }

    /** The candidates reordered by MaxSim (ties keep the stage-1 order), then {@link #metrics}. */
    private static double[] rerank(Backend cpu, String head, TokenStorage storage, TokenTexts.Encoded docs,
            TokenTexts.Encoded queries, int[][] candidates) throws Exception {
        HeadConfig config = head == null ? HeadConfig.none() : BundledHeads.config(MODEL, head);
        float[][] d;
        float[][] q;
        try (Head h = Heads.load(config, cpu, DIM)) {   // null for none
            d = project(cpu, h, docs.tokens());
            q = project(cpu, h, queries.tokens());
        }
        TokenSet.Builder b = new TokenSet.Builder(storage, DIM);
        for (float[] t : d) {
            b.add(TokenSet.encode(storage, t, 0, t.length / DIM, DIM));
        }
        TokenSet set = b.build();
        int[] qOff = new int[q.length + 1];
        for (int i = 0; i < q.length; i++) {
            qOff[i + 1] = qOff[i] + q[i].length / DIM;
        }
        float[] qTokens = new float[qOff[q.length] * DIM];
        for (int i = 0; i < q.length; i++) {
            System.arraycopy(q[i], 0, qTokens, qOff[i] * DIM, q[i].length);
        }
        TokenQueries tq = new TokenQueries(qTokens, qOff, DIM);
        int[][] ranked = new int[candidates.length][];
        int step = 256;
        for (int from = 0; from < candidates.length; from += step) {
            int to = Math.min(candidates.length, from + step);
            int pairs = 0;
            for (int i = from; i < to; i++) {
                pairs += candidates[i].length;
            }
            int[] pq = new int[pairs];
            int[] pd = new int[pairs];
            int p = 0;
            for (int i = from; i < to; i++) {
                for (int c : candidates[i]) {
                    pq[p] = i;
                    pd[p++] = c;
                }
            }
            float[] scores = cpu.retrieval().maxSim(tq, set, pq, pd);
            p = 0;
            for (int i = from; i < to; i++) {
                int k = candidates[i].length;
                Integer[] order = new Integer[k];
                for (int r = 0; r < k; r++) {
                    order[r] = r;
                }
                float[] s = Arrays.copyOfRange(scores, p, p + k);
                Arrays.sort(order, (x, y) -> Float.compare(s[y], s[x]));   // stable: ties keep stage-1 order
                ranked[i] = new int[k];
                for (int r = 0; r < k; r++) {
                    ranked[i][r] = candidates[i][order[r]];
                }
                p += k;
            }
        }
        return metrics(ranked);
    }

    /** Each text's raw token states through the head (none: unchanged), every token scaled to unit length. */
    private static float[][] project(Backend cpu, Head head, float[][] raw) {
        float[][] out = new float[raw.length][];
        try (Workspace ws = new Workspace(cpu)) {
            int from = 0;
            while (from < raw.length) {
                int to = from;
                int rows = 0;
                while (to < raw.length && (rows == 0 || rows + raw[to].length / DIM <= 8192)) {
                    rows += raw[to++].length / DIM;
                }
                float[] x = new float[rows * DIM];
                int off = 0;
                for (int i = from; i < to; i++) {
                    System.arraycopy(raw[i], 0, x, off, raw[i].length);
                    off += raw[i].length;
                }
                float[] y = x;
                if (head != null) {
                    try (Tensor xt = cpu.upload(x, rows, DIM); Tensor yt = cpu.allocate(DType.FLOAT32, rows, DIM)) {
                        head.apply(cpu, xt, yt, ws);
                        y = yt.toFloatArray();
                    }
                }
                off = 0;
                for (int i = from; i < to; i++) {
                    out[i] = Arrays.copyOfRange(y, off, off + raw[i].length);
                    off += raw[i].length;
                    normalizeRows(out[i]);
                }
                from = to;
            }
        }
        return out;
    }

    private static void normalizeRows(float[] v) {
        for (int t = 0; t < v.length / DIM; t++) {
            double s = 0;
            for (int j = 0; j < DIM; j++) {
                s += (double) v[t * DIM + j] * v[t * DIM + j];
            }
            float inv = s > 0 ? (float) (1 / Math.sqrt(s)) : 0f;
            for (int j = 0; j < DIM; j++) {
                v[t * DIM + j] *= inv;
            }
        }
    }
}
