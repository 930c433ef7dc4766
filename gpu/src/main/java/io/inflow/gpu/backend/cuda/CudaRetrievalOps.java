package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.cuda.kernels.MaxSimKernel;
import io.inflow.gpu.backend.cuda.kernels.RetrievalKernel;
import io.inflow.gpu.retrieval.RetrievalOps;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TokenQueries;
import io.inflow.gpu.retrieval.TokenSet;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.retrieval.VectorChunk;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The retrieval family on CUDA ({@code retrieval.cu}): per chunk a fused score-and-select launch writing each
 * slice's best candidates, then one merge launch for the final k per query ({@link RetrievalKernel}). Chunks are
 * mirrored on the device (values as stored, scales, norms, tie keys, filter codes, live flags) and re-uploaded when
 * {@link VectorChunk#version()} moved; after a search, mirrors of chunks it did not name are freed, so device memory
 * follows the index's current chunk list (a backend searching two indexes alternately re-uploads: give each index
 * its own backend). MaxSim ({@link #maxSim}, {@code maxsim.cu}) uploads its inputs per call.
 *
 * <p>{@code TopK top = cudaBackend.retrieval().search(chunks, new SearchRequest(q, 64, 384, 10, Metric.L2, null));}
 */
final class CudaRetrievalOps implements RetrievalOps, AutoCloseable {
    private final CudaMemory memory;
    private final CudaContext context;
    private final KernelLauncher launcher;
    private final Map<VectorChunk, Mirror> mirrors = new IdentityHashMap<>();

    CudaRetrievalOps(CudaMemory memory, CudaContext context, KernelLauncher launcher) {
        this.memory = memory;
        this.context = context;
        this.launcher = launcher;
    }

    /** One chunk's rows {@code [0, count)} on the device; all int32 tensors hold raw bits (see {@link #upload}). */
    private static final class Mirror implements AutoCloseable {
        final long version;
        final int count;
        final List<Tensor> tensors = new ArrayList<>();
        Tensor values;
        Tensor scales;
        Tensor norms;
        Tensor tie;
        Tensor codes;
        Tensor live;

        Mirror(long version, int count) {
            this.version = version;
            this.count = count;
        }

        Tensor keep(Tensor t) {
            tensors.add(t);
            return t;
        }

        @Override
        public void close() {
            tensors.forEach(Tensor::close);
        }
    }

    @Override
    public synchronized TopK search(List<VectorChunk> chunks, SearchRequest request) {
        int dim = request.dim();
        for (VectorChunk c : chunks) {
            if (c.dim() != dim) {
                throw new IllegalArgumentException("chunk of dim " + c.dim() + " searched with queries of dim " + dim);
            }
        }
        RetrievalKernel.Plan plan = RetrievalKernel.plan(dim, request.k());
        int n = request.count();
        int k = request.k();
        TopK out = new TopK(n, k);
        refreshMirrors(chunks);
        long slots = 0;
        int[] slotBase = new int[chunks.size()];
        for (int ci = 0; ci < chunks.size(); ci++) {
            slotBase[ci] = (int) slots;
            slots += (long) plan.slices(chunks.get(ci).count()) * plan.kOut();
        }
        if (n == 0 || slots == 0) {
            return out;
        }
        if (slots * n > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("CUDA retrieval: " + n + " queries x " + slots + " candidate slots"
                    + " exceed one buffer; search fewer queries at a time");
        }
        int totalSlots = (int) slots;
        double[] qNorm = new double[n];
        float[] qs = request.queries();
        for (int q = 0; q < n; q++) {
            double sq = 0;
            for (int j = 0; j < dim; j++) {
                sq += (double) qs[q * dim + j] * qs[q * dim + j];
            }
            qNorm[q] = Math.sqrt(sq);
        }
        int[] qCodes = new int[n];
        for (int q = 0; q < n; q++) {
            qCodes[q] = request.filterCode(q);
        }
        List<Tensor> temporaries = new ArrayList<>();
        try {
            Tensor dQueries = keep(temporaries, memory.upload(java.util.Arrays.copyOf(qs, n * dim), n * dim));
            Tensor dNorms = keep(temporaries, memory.upload(doubleBits(qNorm), 2 * n));
            Tensor dCodes = keep(temporaries, memory.upload(qCodes, n));
            int cells = n * totalSlots;
            Tensor candScore = keep(temporaries, memory.allocate(DType.FLOAT32, cells));
            Tensor candTie = keep(temporaries, memory.allocate(DType.INT32, 2 * cells));
            Tensor candChunk = keep(temporaries, memory.allocate(DType.INT32, cells));
            Tensor candRow = keep(temporaries, memory.allocate(DType.INT32, cells));
            Tensor outScore = keep(temporaries, memory.allocate(DType.FLOAT32, n * k));
            Tensor outChunk = keep(temporaries, memory.allocate(DType.INT32, n * k));
            Tensor outRow = keep(temporaries, memory.allocate(DType.INT32, n * k));
            Tensor outCount = keep(temporaries, memory.allocate(DType.INT32, n));
            context.run(() -> {
                for (int ci = 0; ci < chunks.size(); ci++) {
                    VectorChunk c = chunks.get(ci);
                    Mirror m = mirrors.get(c);
                    RetrievalKernel.slice(launcher, c.storage(), m.values, m.scales, m.norms, m.tie, m.codes, m.live,
                            m.count, ci, dQueries, dNorms, dCodes, n, request.metric(), plan, candScore, candTie,
                            candChunk, candRow, totalSlots, slotBase[ci]);
                }
                RetrievalKernel.merge(launcher, candScore, candTie, candChunk, candRow, n, totalSlots, plan, outScore,
                        outChunk, outRow, outCount);
            });
            float[] score = memory.download(outScore);
            int[] chunk = memory.downloadInts(outChunk);
            int[] row = memory.downloadInts(outRow);
            int[] count = memory.downloadInts(outCount);
            for (int q = 0; q < n; q++) {
                for (int i = 0; i < count[q]; i++) {
                    out.set(q, i, chunk[q * k + i], row[q * k + i], score[q * k + i]);
                }
            }
            return out;
        } finally {
            temporaries.forEach(Tensor::close);
        }
    }

    private static Tensor keep(List<Tensor> list, Tensor t) {
        list.add(t);
        return t;
    }

    /** Frees the device mirrors of {@code chunks} now (one-off searches: clustering's core distances). */
    synchronized void forget(List<VectorChunk> chunks) {
        for (VectorChunk c : chunks) {
            Mirror m = mirrors.remove(c);
            if (m != null) {
                m.close();
            }
        }
    }

    /** Uploads chunks that are new or whose version moved; frees the mirrors of chunks not in {@code chunks}. */
    private void refreshMirrors(List<VectorChunk> chunks) {
        Set<VectorChunk> wanted = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        wanted.addAll(chunks);
        mirrors.entrySet().removeIf(e -> {
            if (!wanted.contains(e.getKey())) {
                e.getValue().close();
                return true;
            }
            return false;
        });
        for (VectorChunk c : chunks) {
            Mirror m = mirrors.get(c);
            if (m == null || m.version != c.version() || m.count != c.count()) {
                if (m != null) {
                    m.close();
                    mirrors.remove(c);
                }
                mirrors.put(c, upload(c));
            }
        }
    }

    /**
     * Raw bits as int32 tensors: float16 values two per int, int8 four per int (little-endian, as the kernel reads
     * them through a {@code __half*} / {@code signed char*}), tie keys as two ints each (low, high).
     */
    private Mirror upload(VectorChunk c) {
        int count = c.count();
        int dim = c.dim();
        Mirror m = new Mirror(c.version(), count);
        try {
            int values = count * dim;
            m.values = m.keep(switch (c.storage()) {
                case FLOAT32 -> memory.upload(java.util.Arrays.copyOf(c.f32(), values), values);
                case FLOAT16 -> memory.upload(packShorts(c.f16(), values), (values + 1) / 2);
                case INT8 -> memory.upload(packBytes(c.i8(), values), (values + 3) / 4);
            });
            m.scales = m.keep(c.storage() == Storage.INT8
                    ? memory.upload(java.util.Arrays.copyOf(c.scales(), count), count)
                    : memory.allocate(DType.FLOAT32, 1));
            m.norms = m.keep(memory.upload(java.util.Arrays.copyOf(c.norms(), count), count));
            int[] tie = new int[2 * count];
            int[] live = new int[count];
            for (int r = 0; r < count; r++) {
                long t = c.tieKeys()[r];
                tie[2 * r] = (int) t;
                tie[2 * r + 1] = (int) (t >>> 32);
                live[r] = c.isLive(r) ? 1 : 0;
            }
            m.tie = m.keep(memory.upload(tie, 2 * count));
            m.codes = m.keep(memory.upload(java.util.Arrays.copyOf(c.filterCodes(), count), count));
            m.live = m.keep(memory.upload(live, count));
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    static int[] doubleBits(double[] v) {
        int[] out = new int[2 * v.length];
        for (int i = 0; i < v.length; i++) {
            long b = Double.doubleToRawLongBits(v[i]);
            out[2 * i] = (int) b;
            out[2 * i + 1] = (int) (b >>> 32);
        }
        return out;
    }

    static int[] packShorts(short[] s, int n) {
        int[] out = new int[(n + 1) / 2];
        for (int i = 0; i < n; i++) {
            out[i >> 1] |= (s[i] & 0xffff) << (16 * (i & 1));
        }
        return out;
    }

    static int[] packBytes(byte[] b, int n) {
        int[] out = new int[(n + 3) / 4];
        for (int i = 0; i < n; i++) {
            out[i >> 2] |= (b[i] & 0xff) << (8 * (i & 3));
        }
        return out;
    }

    /** Frees every mirror (the backend calls it before closing its memory). */
    @Override
    public synchronized void close() {
        mirrors.values().forEach(Mirror::close);
        mirrors.clear();
    }

    /**
     * MaxSim by {@code maxsim.cu} ({@link MaxSimKernel}): the documents' tokens as stored, their scales and offsets,
     * the query tokens and offsets and the pairs (sorted by document, so that blocks of one document run together)
     * are uploaded for this call, one block per pair writes its score, and the scores come back in the caller's
     * order. Nothing stays on the device.
     */
    @Override
    public synchronized float[] maxSim(TokenQueries queries, TokenSet documents, int[] pairQuery, int[] pairDoc) {
        RetrievalOps.checkMaxSim(queries, documents, pairQuery, pairDoc);
        int pairs = pairQuery.length;
        float[] scores = new float[pairs];
        if (pairs == 0) {
            return scores;
        }
        int[] order = MaxSimKernel.byDocument(pairDoc, documents.count());
        int[] sortedQuery = new int[pairs];
        int[] sortedDoc = new int[pairs];
        for (int i = 0; i < pairs; i++) {
            sortedQuery[i] = pairQuery[order[i]];
            sortedDoc[i] = pairDoc[order[i]];
        }
        int dim = documents.dim();
        int tokens = documents.totalTokens();
        List<Tensor> temporaries = new ArrayList<>();
        try {
            Tensor values = keep(temporaries, switch (documents.storage()) {
                case FLOAT32 -> memory.upload(documents.float32Values(), tokens * dim);
                case INT8 -> memory.upload(packBytes(documents.int8Values(), tokens * dim), (tokens * dim + 3) / 4);
                case BIT1 -> memory.upload(longBits(documents.bitWords()), 2 * documents.bitWords().length);
            });
            Tensor scales = keep(temporaries, documents.scales() == null ? memory.allocate(DType.FLOAT32, 1)
                    : memory.upload(documents.scales(), tokens));
            Tensor docOffsets = keep(temporaries, memory.upload(documents.offsets(), documents.count() + 1));
            Tensor dQueries = keep(temporaries, memory.upload(queries.tokens(), queries.tokens().length));
            Tensor queryOffsets = keep(temporaries, memory.upload(queries.offsets(), queries.count() + 1));
            Tensor dPairQuery = keep(temporaries, memory.upload(sortedQuery, pairs));
            Tensor dPairDoc = keep(temporaries, memory.upload(sortedDoc, pairs));
            Tensor out = keep(temporaries, memory.allocate(DType.FLOAT32, pairs));
            context.run(() -> MaxSimKernel.launch(launcher, documents.storage(), values, scales, docOffsets, dQueries,
                    queryOffsets, dPairQuery, dPairDoc, pairs, dim, documents.wordsPerToken(), out));
            float[] sorted = memory.download(out);
            for (int i = 0; i < pairs; i++) {
                scores[order[i]] = sorted[i];
            }
            return scores;
        } finally {
            temporaries.forEach(Tensor::close);
        }
    }

    /** 64-bit words as int pairs (low, high), as the kernel reads them through an {@code unsigned long long*}. */
    static int[] longBits(long[] words) {
        int[] out = new int[2 * words.length];
        for (int i = 0; i < words.length; i++) {
            out[2 * i] = (int) words[i];
            out[2 * i + 1] = (int) (words[i] >>> 32);
        }
        return out;
    }
}
