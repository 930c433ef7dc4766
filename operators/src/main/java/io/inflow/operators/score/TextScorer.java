package io.inflow.operators.score;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.encoder.TextEncoder;
import io.inflow.gpu.head.ClassifierHead;
import io.inflow.gpu.head.HeadType;
import io.inflow.gpu.head.ScorerConfig;
import io.inflow.gpu.quant.Int8Bert;
import io.inflow.gpu.quant.Int8TextEncoder;
import io.inflow.gpu.quant.QuantizedTextModels;
import io.inflow.gpu.resources.ProcessResources;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.operators.embed.EncoderSpec;
import io.inflow.operators.embed.SharedEncoders;
import io.inflow.operators.embed.SharedModel;
import io.inflow.schemas.ScorerRef;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * Scores the rows of a text batch with a scorer (encoder + classification head, {@link ScorerSpec}): the head reads
 * the pooled embedding its {@code scorer.json} asks for, computed as follows.
 * <ul>
 *   <li><b>float32</b>, when the job's own embeddings are those (same model, pooling, normalisation; no projection
 *       head or adapter): they are reused, and only rows longer than the scorer's token limit are encoded again,
 *       truncated, by the job's encoder. Otherwise the scorer's own float encoder (shared per process) runs.</li>
 *   <li><b>int8 / mixed</b>: the integer-only encoder ({@link Int8TextEncoder}) on the batch's token ids, truncated
 *       to the scorer's limit; its model comes from a {@code quantize} file or is quantized once per machine
 *       ({@link QuantizedTextModels}). One per process, shared by all slots, on the job's backend
 *       ({@code inflow.compute.backend}: the fast CPU kernels, or CUDA's {@code quant.cu}).</li>
 * </ul>
 * Truncation keeps a row's first {@code maxTokens - 1} tokens and its closing {@code [SEP]}, as the tokenizer would
 * have truncated the text. Not thread-safe: the compute thread calls it.
 *
 * <pre>{@code
 * TextScorer s = TextScorer.open(scorerSpec, jobSpec, jobEncoder);   // on the compute thread
 * ScoredRows rows = s.score(batch, embeddings);                       // embeddings: the job's, or null
 * s.close();
 * }</pre>
 */
public final class TextScorer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TextScorer.class);

    private final ClassifierHead head;
    private final ScorerRef ref;
    private final int maxTokens;
    private final boolean reuse;
    private final SharedModel<TextEncoder> floatEncoder;
    private final ProcessResources.Lease<SharedModel<TextEncoder>> floatLease;
    private final ProcessResources.Lease<SharedModel<IntegerModel>> intLease;
    private final BufferAllocator allocator;

    private TextScorer(ClassifierHead head, ScorerRef ref, boolean reuse, SharedModel<TextEncoder> floatEncoder,
                       ProcessResources.Lease<SharedModel<TextEncoder>> floatLease,
                       ProcessResources.Lease<SharedModel<IntegerModel>> intLease) {
        this.head = head;
        this.ref = ref;
        this.maxTokens = head.config().maxTokens();
        this.reuse = reuse;
        this.floatEncoder = floatEncoder;
        this.floatLease = floatLease;
        this.intLease = intLease;
        this.allocator = new RootAllocator(64L << 20);
    }

    /**
     * Opens the scorer for a job whose text encoder is {@code job} (running as {@code jobEncoder}, or null when the
     * job computes no embeddings).
     */
    public static TextScorer open(ScorerSpec spec, EncoderSpec job, SharedModel<TextEncoder> jobEncoder)
            throws Exception {
        ClassifierHead head = spec.loadHead();
        ScorerConfig c = head.config();
        ScorerRef ref = new ScorerRef(head.name(), head.version(), spec.precision());
        if (spec.integer()) {
            IntegerKey key = new IntegerKey(c.encoder(), c.pooling().name(), c.normalize(), c.maxTokens(),
                    spec.quantizedModel(), spec.cacheDir(), spec.effectiveBudget(), spec.threads(), job.backend());
            ProcessResources.Lease<SharedModel<IntegerModel>> lease = SharedEncoders.acquire(key,
                    () -> IntegerModel.load(key, job));
            LOG.info("scorer {} v{} at {} ({}) on the integer encoder", ref.name(), ref.version(), ref.precision(),
                    lease.get().model().encoder.precision());
            return new TextScorer(head, ref, false, null, null, lease);
        }
        EncoderSpec own = floatSpec(c, job);
        if (jobEncoder != null && sameEmbeddings(own, job)) {
            LOG.info("scorer {} v{} at float32 reads the job's embeddings", ref.name(), ref.version());
            return new TextScorer(head, ref, true, jobEncoder, null, null);
        }
        ProcessResources.Lease<SharedModel<TextEncoder>> lease = SharedEncoders.acquire(own,
                () -> TextEncoder.create(own.toConfig()));
        LOG.info("scorer {} v{} at float32 runs its own encoder ({}, {} pooling{})", ref.name(), ref.version(),
                c.encoder(), c.pooling(), c.normalize() ? ", L2" : "");
        return new TextScorer(head, ref, false, lease.get(), lease, null);
    }

    /** The float encoder the head expects, on the job's backend and threads. */
    static EncoderSpec floatSpec(ScorerConfig c, EncoderSpec job) {
        return new EncoderSpec(job.model(), c.pooling(), c.normalize(), HeadType.NONE, null, false, null,
                job.backend(), job.threads(), c.maxTokens(), job.cuda());
    }

    /** Whether {@code job}'s embeddings are the ones {@code scorer} makes (the token limit aside). */
    static boolean sameEmbeddings(EncoderSpec scorer, EncoderSpec job) {
        return scorer.model() == job.model() && scorer.pooling() == job.pooling()
                && scorer.normalize() == job.normalize() && job.head() == HeadType.NONE
                && job.adapterWeights() == null;
    }

    public ScorerRef ref() {
        return ref;
    }

    /** Whether the job's embeddings are reused (float32 with matching settings). */
    public boolean reusesEmbeddings() {
        return reuse;
    }

    /**
     * Scores every row of {@code batch}.
     *
     * @param embeddings the job's embeddings of the batch ({@code [rows, d]}), or null when it computed none
     */
    public ScoredRows score(TokenBatch batch, float[] embeddings) throws Exception {
        int rows = batch.rowCount();
        int d = head.dimension();
        float[] x;
        if (intLease != null) {
            Truncated t = Truncated.of(batch, maxTokens, null);
            x = intLease.get().call(m -> m.encoder.encode(t.ids, t.lengths, t.rows, t.seq));
        } else if (reuse && embeddings != null) {
            x = embeddings.clone();
            Truncated t = Truncated.of(batch, maxTokens, r -> batch.tokenCount(r) > maxTokens);
            if (t.rows > 0) {
                float[] again = encodeFloat(t);
                for (int i = 0; i < t.rows; i++) {
                    System.arraycopy(again, i * d, x, t.source[i] * d, d);
                }
            }
        } else {
            x = encodeFloat(Truncated.of(batch, maxTokens, null));
        }
        return new ScoredRows(ref, head.labels(), head.scores(x, rows));
    }

    private float[] encodeFloat(Truncated t) throws Exception {
        try (TokenBatch b = new TokenBatch(allocator, t.seq, t.rows)) {
            for (int r = 0; r < t.rows; r++) {
                int[] ids = java.util.Arrays.copyOfRange(t.ids, r * t.seq, r * t.seq + t.lengths[r]);
                b.append(ids, false);
            }
            Tensor ids = Tensor.wrap(b.inputIdsBuffer(), DType.INT32, t.rows, t.seq);
            Tensor lengths = Tensor.wrap(b.tokenCountBuffer(), DType.INT32, t.rows);
            return floatEncoder.call(enc -> enc.encode(ids, lengths));
        }
    }

    @Override
    public void close() throws Exception {
        try {
            if (floatLease != null) {
                floatLease.close();
            }
            if (intLease != null) {
                intLease.close();
            }
        } finally {
            allocator.close();
        }
    }

    /** What identifies an integer encoder in a process: equal keys share one. */
    record IntegerKey(String encoder, String pooling, boolean normalize, int maxTokens, String file, String cacheDir,
                      double budget, int threads, io.inflow.gpu.backend.BackendKind backend) {
    }

    /** The process's integer encoder for one {@link IntegerKey}: its backend and model. */
    static final class IntegerModel implements AutoCloseable {
        final Backend backend;
        final Int8TextEncoder encoder;

        private IntegerModel(Backend backend, Int8TextEncoder encoder) {
            this.backend = backend;
            this.encoder = encoder;
        }

        static IntegerModel load(IntegerKey key, EncoderSpec job) throws Exception {
            Int8Bert model = key.file() != null
                    ? QuantizedTextModels.load(Path.of(key.file()), job.model(), key.maxTokens())
                    : QuantizedTextModels.cached(job.model(), key.budget(), key.maxTokens(), Path.of(key.cacheDir()),
                            key.threads(), LOG::info);
            // the job's backend (CUDA runs quant.cu; AUTO picks CUDA where a device is present), else the CPU's
            Backend backend = io.inflow.gpu.backend.Backends.create(key.backend(), key.threads(), null, job.cuda());
            LOG.info("integer encoder on {}", backend.name());
            try {
                return new IntegerModel(backend, new Int8TextEncoder(backend, model,
                        io.inflow.gpu.pooling.PoolingMode.valueOf(key.pooling()), key.normalize()));
            } catch (RuntimeException e) {
                backend.close();
                throw e;
            }
        }

        @Override
        public void close() throws Exception {
            try {
                encoder.close();
            } finally {
                backend.close();
            }
        }
    }

    /** Some rows of a batch with at most {@code maxTokens} tokens each, padded to the longest. */
    private record Truncated(int[] ids, int[] lengths, int rows, int seq, int[] source) {
        static Truncated of(TokenBatch batch, int maxTokens, java.util.function.IntPredicate which) {
            int n = 0;
            int[] source = new int[batch.rowCount()];
            int seq = 1;
            for (int r = 0; r < batch.rowCount(); r++) {
                if (which == null || which.test(r)) {
                    source[n++] = r;
                    seq = Math.max(seq, Math.min(maxTokens, batch.tokenCount(r)));
                }
            }
            int[] ids = new int[n * seq];
            int[] lengths = new int[n];
            for (int i = 0; i < n; i++) {
                int r = source[i];
                int len = batch.tokenCount(r);
                int keep = Math.min(len, maxTokens);
                for (int p = 0; p < keep - 1; p++) {
                    ids[i * seq + p] = batch.tokenId(r, p);
                }
                ids[i * seq + keep - 1] = batch.tokenId(r, len - 1); // the closing [SEP] stays last
                lengths[i] = keep;
            }
            return new Truncated(ids, lengths, n, seq, java.util.Arrays.copyOf(source, n));
        }
    }
}
