package io.inflow.e2e.bench;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.operators.embed.TextBatchCompute;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.flink.configuration.Configuration;

import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Real embeddings for the retrieval benchmarks (not a test): every WordNet 3.0 gloss (Debian {@code wordnet-base}:
 * nouns, verbs, adjectives, adverbs; about 117,000) through all-minilm-l6-v2, unit length, written as raw
 * little-endian float32 rows of 384 values in file order. gpu's {@code LuceneRetrievalBenchmark vectors=<file>}
 * reads them, so HNSW is measured on the kind of vectors it is built for, not only on Gaussian noise.
 *
 * <pre>
 * mvn -B -q -pl e2e-tests -am -Pbench -DskipTests process-test-classes \
 *     -Dbench.main=io.inflow.e2e.bench.EmbedWordNet -Dbench.args="/tmp/wordnet-minilm.f32"
 * </pre>
 */
public final class EmbedWordNet {

    private static final List<String> FILES = List.of("data.noun", "data.verb", "data.adj", "data.adv");

    private EmbedWordNet() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "/tmp/wordnet-minilm.f32");
        List<String> glosses = new ArrayList<>();
        for (String f : FILES) {
            for (String line : Files.readAllLines(Path.of("/usr/share/wordnet", f), StandardCharsets.UTF_8)) {
                if (!line.startsWith("  ") && line.contains(" | ")) {
                    glosses.add(line.substring(line.indexOf(" | ") + 3).trim());
                }
            }
        }
        Configuration conf = new Configuration();
        conf.set(KafkaOptions.BOOTSTRAP_SERVERS, "127.0.0.1:9");
        PipelineSettings s = PipelineSettings.from(conf);
        TextBatchCompute compute = s.compute();
        compute.open();
        long t0 = System.nanoTime();
        float[][] vectors = new float[glosses.size()][];
        try (TextTokenizer tok = TextTokenizer.load(s.model(), s.maxTokens());
                BufferAllocator alloc = new RootAllocator()) {
            List<Tokenized> tokens = glosses.stream().map(tok::encode).toList();
            Integer[] order = new Integer[glosses.size()];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, Comparator.comparingInt(i -> tokens.get(i).ids().length));
            for (int from = 0; from < order.length; from += 64) {
                int to = Math.min(order.length, from + 64);
                try (TokenBatch b = new TokenBatch(alloc, tokens.get(order[to - 1]).ids().length, to - from)) {
                    for (int i = from; i < to; i++) {
                        b.append(tokens.get(order[i]).ids(), tokens.get(order[i]).truncated());
                    }
                    var result = compute.compute(b);
                    for (int i = from; i < to; i++) {
                        vectors[order[i]] = result.row(i - from);
                    }
                }
                if ((from / 64) % 200 == 0) {
                    System.err.printf("%d of %d glosses embedded, %.0f s%n", to, order.length,
                            (System.nanoTime() - t0) / 1e9);
                }
            }
        } finally {
            compute.close();
        }
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(out))) {
            ByteBuffer row = ByteBuffer.allocate(4 * vectors[0].length).order(ByteOrder.LITTLE_ENDIAN);
            for (float[] v : vectors) {
                row.clear();
                row.asFloatBuffer().put(v);
                o.write(row.array());
            }
        }
        System.out.printf("%d glosses x %d values (all-minilm-l6-v2, unit length) -> %s in %.0f s%n",
                vectors.length, vectors[0].length, out, (System.nanoTime() - t0) / 1e9);
        System.exit(0);
    }
}
