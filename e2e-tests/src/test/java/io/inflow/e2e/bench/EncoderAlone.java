package io.inflow.e2e.bench;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.operators.batch.BatchingConfig;
import io.inflow.operators.batch.LengthBuckets;
import io.inflow.operators.embed.TextBatchCompute;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

import java.util.ArrayList;
import java.util.List;

/**
 * The peer of the pipeline: the same text compute the pipeline builds from the same configuration
 * ({@link PipelineSettings#compute()}: the MiniLM {@code EncoderCompute}, same backend and thread count), on the same
 * texts tokenized by the same tokenizer and packed the way the batching operator packs them at best (each length
 * bucket's texts in arrival order, in full batches of {@link BatchingConfig#rowsFor} rows; the last batch of a bucket
 * partial), called from one thread with nothing else running. Tokenization is not timed (it is reported apart).
 *
 * <p>{@code double[] eventsPerSecond = EncoderAlone.measure(settings, texts, 3);}
 */
final class EncoderAlone {

    /** Per timed round: events/s; and the mean time per batch of the last round. */
    record Result(double[] eventsPerSecond, double meanBatchMs, int batches, double msPerThousandTokens,
            double tokenizerEventsPerSecond, double tokenizerTwoThreads) {
    }

    private EncoderAlone() {
    }

    static Result measure(PipelineSettings s, BenchTexts texts, int rounds) throws Exception {
        BatchingConfig cfg = s.batching();
        LengthBuckets buckets = new LengthBuckets(cfg.buckets());
        List<List<Tokenized>> byBucket = new ArrayList<>();
        for (int b = 0; b < buckets.count(); b++) {
            byBucket.add(new ArrayList<>());
        }
        double tokenizerRate;
        double tokenizerTwo;
        try (TextTokenizer tok = TextTokenizer.load(s.model(), s.maxTokens())) {
            for (int i = 0; i < texts.distinct(); i++) {
                tok.encode(texts.text(i)); // warm-up
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < texts.distinct(); i++) {
                Tokenized t = tok.encode(texts.text(i));
                byBucket.get(buckets.indexFor(t.ids().length)).add(t);
            }
            tokenizerRate = texts.distinct() / ((System.nanoTime() - t0) / 1e9);
            java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                long t1 = System.nanoTime();
                List<java.util.concurrent.Future<?>> halves = new ArrayList<>();
                for (int h = 0; h < 2; h++) {
                    int half = h;
                    halves.add(two.submit(() -> {
                        for (int i = half; i < texts.distinct(); i += 2) {
                            tok.encode(texts.text(i));
                        }
                    }));
                }
                for (var f : halves) {
                    f.get();
                }
                tokenizerTwo = texts.distinct() / ((System.nanoTime() - t1) / 1e9);
            } finally {
                two.shutdown();
            }
        }
        TextBatchCompute compute = s.compute();
        try (BufferAllocator alloc = new RootAllocator()) {
            List<TokenBatch> batches = new ArrayList<>();
            try {
                for (int b = 0; b < buckets.count(); b++) {
                    int len = buckets.length(b);
                    TokenBatch batch = null;
                    for (Tokenized t : byBucket.get(b)) {
                        if (batch == null || batch.isFull()) {
                            batch = new TokenBatch(alloc, len, cfg.rowsFor(len));
                            batches.add(batch);
                        }
                        batch.append(t.ids(), t.truncated());
                    }
                }
                compute.open();
                try {
                    for (TokenBatch b : batches) {
                        compute.compute(b); // warm-up round (JIT, workspace sizes)
                    }
                    double[] rates = new double[rounds];
                    double lastSeconds = 0;
                    for (int r = 0; r < rounds; r++) {
                        long t0 = System.nanoTime();
                        for (TokenBatch b : batches) {
                            compute.compute(b);
                        }
                        lastSeconds = (System.nanoTime() - t0) / 1e9;
                        rates[r] = texts.distinct() / lastSeconds;
                    }
                    long tokens = batches.stream().mapToLong(EncoderProbe::trimmedTokens).sum();
                    return new Result(rates, 1e3 * lastSeconds / batches.size(), batches.size(),
                            1e6 * lastSeconds / tokens, tokenizerRate,
                            tokenizerTwo);
                } finally {
                    compute.close();
                }
            } finally {
                batches.forEach(TokenBatch::close);
            }
        }
    }
}
