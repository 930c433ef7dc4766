package io.inflow.gpu.encoder;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.backend.OutOfDeviceMemoryException;
import io.inflow.gpu.backend.ShapeChecks;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.head.Head;
import io.inflow.gpu.head.Heads;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.WeightSource;
import io.inflow.gpu.model.onnx.OnnxBertWeights;
import io.inflow.gpu.model.onnx.OnnxModel;
import io.inflow.gpu.model.safetensors.SafetensorsWeights;
import io.inflow.gpu.pooling.Pooler;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Text embedding, the entry point the pipeline calls: token ids in, pooled (optionally projected and
 * normalised) embeddings out. Built from a {@link TextEncoderConfig}; owns its backend, weights, heads and
 * workspace. Accepts tensors that view foreign off-heap memory (Arrow buffers): ids are copied once into
 * backend memory, trimmed to the longest row. One call at a time ({@code encode} is synchronized).
 *
 * <pre>{@code
 * try (TextEncoder enc = TextEncoder.create(TextEncoderConfig.builder()
 *         .onnxResource("all-minilm-l6-v2.onnx").normalize(true).threads(2).build())) {
 *     Tensor ids = Tensor.wrap(idsBuf, DType.INT32, batch, seq);        // int32 [b, s], 0-padded
 *     Tensor lengths = Tensor.wrap(lenBuf, DType.INT32, batch);          // int32 [b]
 *     float[] embeddings = enc.encode(ids, lengths);                      // [b * dimension()] row-major
 * }
 * }</pre>
 */
public final class TextEncoder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TextEncoder.class);

    private final TextEncoderConfig config;
    private final Backend backend;
    private final BertConfig bert;
    private final BertWeights weights;
    private final BertEncoder encoder;
    private final Pooler pooler;
    private final Head head;
    private final Head adapter;
    private final Workspace ws;
    private final int maxSequenceLength;
    private final int dimension;
    private long batchSplits;
    /** The last layer of the latest {@link #encodeInWorkspace} call (the encoder's workspace; valid until the next). */
    private Tensor lastHidden;

    private TextEncoder(TextEncoderConfig config, Backend backend, BertConfig bert, BertWeights weights, Head head,
                        Head adapter) {
        this.config = config;
        this.backend = backend;
        this.bert = bert;
        this.weights = weights;
        this.encoder = new BertEncoder(backend, bert, weights);
        this.pooler = new Pooler(config.pooling(), bert.layers());
        this.head = head;
        this.adapter = adapter;
        this.ws = new Workspace(backend);
        this.maxSequenceLength = Math.min(config.maxSequenceLength(), bert.maxPositions());
        this.dimension = head == null ? bert.hidden() : head.outDim();
    }

    /** Loads the model, heads and backend the config names; fails at load on a missing or mis-shaped tensor. */
    public static TextEncoder create(TextEncoderConfig config) throws IOException {
        return create(config, Backends.create(config.backend(), config.threads(), config.allocator(), config.cuda()));
    }

    /** As {@link #create(TextEncoderConfig)} on a given backend (its kind overrides the config's); takes ownership. */
    static TextEncoder create(TextEncoderConfig config, Backend backend) throws IOException {
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            backend.require(Family.TRANSFORMER);
            BertConfig bert;
            BertWeights weights;
            if (config.model() instanceof ModelSource.OnnxResource r) {
                OnnxBertWeights source = new OnnxBertWeights(OnnxModel.fromClasspath(r.resource()), r.defaultName());
                bert = source.inferConfig();
                weights = load(source, bert, backend);
            } else {
                ModelSource.SafetensorsDir d = (ModelSource.SafetensorsDir) config.model();
                try (SafetensorsWeights source = SafetensorsWeights.open(d.dir())) {
                    bert = source.bertConfig();
                    weights = load(source, bert, backend);
                }
            }
            opened.add(weights);
            if (config.maxSequenceLength() > bert.maxPositions()) {
                throw new IllegalArgumentException("maxSequenceLength " + config.maxSequenceLength()
                        + " exceeds the model's " + bert.maxPositions() + " position embeddings");
            }
            Head head = Heads.load(config.head(), backend, bert.hidden());
            if (head != null) {
                opened.add(head);
            }
            int pooledDim = head == null ? bert.hidden() : head.outDim();
            Head adapter = config.adapter() == null ? null : Heads.load(config.adapter(), backend, pooledDim);
            return new TextEncoder(config, backend, bert, weights, head, adapter);
        } catch (IOException | RuntimeException e) {
            for (AutoCloseable c : opened) {
                try {
                    c.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            backend.close();
            throw e;
        }
    }

    private static BertWeights load(WeightSource source, BertConfig bert, Backend backend) {
        return BertWeights.load(source, bert, backend);
    }

    /**
     * Embeds a batch: {@code inputIds} int32 {@code [b, s]} row-major, padded with 0; {@code lengths} int32
     * {@code [b]}, each in {@code [1, s]}; {@code s <= maxSequenceLength()}. Returns {@code b * dimension()}
     * floats, row-major.
     *
     * <p>A batch that does not fit the backend's memory pool ({@link OutOfDeviceMemoryException}) is split in
     * halves, each encoded (and split again if needed) and the results concatenated: slower, never fatal. Only a
     * single row that does not fit fails. Rows are independent, so the result equals the unsplit one up to rounding
     * (each half is trimmed to its own longest row).
     */
    public synchronized float[] encode(Tensor inputIds, Tensor lengths) {
        try {
            return backend.download(encodeInWorkspace(inputIds, lengths));
        } catch (OutOfDeviceMemoryException e) {
            int b = inputIds.dim(0);
            if (b <= 1) {
                throw e;
            }
            int half = b / 2;
            batchSplits++;
            LOG.warn("batch of {} rows does not fit the backend's memory ({}); encoding it as {} + {} rows", b,
                    e.getMessage(), half, b - half);
            releaseWorkspaces();
            float[] first = encode(rows(inputIds, 0, half), rows(lengths, 0, half));
            float[] second = encode(rows(inputIds, half, b - half), rows(lengths, half, b - half));
            float[] all = new float[first.length + second.length];
            System.arraycopy(first, 0, all, 0, first.length);
            System.arraycopy(second, 0, all, first.length, second.length);
            return all;
        }
    }

    /** As {@link #encode}, into a new {@code [b, dimension()]} float32 tensor owned by the caller. */
    public synchronized Tensor encodeToTensor(Tensor inputIds, Tensor lengths) {
        Tensor result;
        try {
            result = encodeInWorkspace(inputIds, lengths);
        } catch (OutOfDeviceMemoryException e) {
            float[] split = encode(inputIds, lengths);   // splits as needed
            return backend.upload(split, inputIds.dim(0), dimension);
        }
        Tensor out = backend.allocate(DType.FLOAT32, result.shape());
        backend.copy(result, out);
        return out;
    }

    /**
     * Pooled embeddings and, from the same forward pass, every row's per-token vectors for late interaction (MaxSim):
     * the last layer's state of each non-padding position ({@code [CLS]} and {@code [SEP]} included), through
     * {@code tokenHead} when given (a head loaded with {@link #loadHead}), each scaled to unit length.
     * The pooled part equals {@link #encode}'s result. Not split on device memory pressure: callers batch small.
     *
     * <pre>{@code
     * try (Head colbert = enc.loadHead(HeadConfig.of(HeadType.FFN, Path.of("ffn.safetensors")).withResidual(true))) {
     *     TextEncoder.TokenEncoding e = enc.encodeWithTokens(ids, lengths, colbert);
     *     // row r's tokens: e.tokens()[e.offsets()[r] * e.tokenDim() ... e.offsets()[r + 1] * e.tokenDim())
     * }
     * }</pre>
     */
    public synchronized TokenEncoding encodeWithTokens(Tensor inputIds, Tensor lengths, Head tokenHead) {
        return encodeWithTokens(inputIds, lengths, tokenHead, true);
    }

    /**
     * {@link #encodeWithTokens(Tensor, Tensor, Head)}, with {@code normalizeTokens = false} leaving the token vectors
     * as the head (or, without one, the last layer) gives them: what a projection head is trained on
     * ({@code gpu/scripts/train-colbert-heads.py}).
     */
    public synchronized TokenEncoding encodeWithTokens(Tensor inputIds, Tensor lengths, Head tokenHead,
            boolean normalizeTokens) {
        if (pooler.needsEveryLayer()) {
            throw new IllegalStateException("per-token vectors need a last-layer pooling, not multi-layer pooling");
        }
        if (tokenHead != null && tokenHead.inDim() != bert.hidden()) {
            throw new IllegalArgumentException("token head takes " + tokenHead.inDim() + " values, the model's "
                    + "hidden size is " + bert.hidden());
        }
        float[] pooled = backend.download(encodeInWorkspace(inputIds, lengths));
        Tensor hidden = lastHidden;
        int b = hidden.dim(0);
        int seq = hidden.dim(1);
        int d = hidden.dim(2);
        Tensor tokens = hidden.reshape(b * seq, d);
        if (tokenHead != null) {
            Tensor projected = ws.get("tokens.projected", b * seq, tokenHead.outDim());
            tokenHead.apply(backend, tokens, projected, ws);
            tokens = projected;
        }
        if (normalizeTokens) {
            backend.transformer().l2Normalize(tokens, tokens);
        }
        int dim = tokens.dim(1);
        float[] all = backend.download(tokens);
        int[] len = lengths.toIntArray();
        int[] offsets = new int[b + 1];
        for (int r = 0; r < b; r++) {
            offsets[r + 1] = offsets[r] + len[r];
        }
        float[] packed = new float[offsets[b] * dim];
        for (int r = 0; r < b; r++) {
            System.arraycopy(all, r * seq * dim, packed, offsets[r] * dim, len[r] * dim);
        }
        return new TokenEncoding(pooled, packed, offsets, dim);
    }

    /** Loads a head on this encoder's backend (for {@link #encodeWithTokens}); the caller closes it. */
    public synchronized Head loadHead(io.inflow.gpu.head.HeadConfig config) throws IOException {
        return Heads.load(config, backend, bert.hidden());
    }

    /**
     * {@link #encodeWithTokens}'s result: {@code pooled} {@code [b, dimension()]}; {@code tokens}
     * {@code [offsets[b], tokenDim]}, row {@code r} owning tokens {@code [offsets[r], offsets[r + 1])}.
     */
    public record TokenEncoding(float[] pooled, float[] tokens, int[] offsets, int tokenDim) {
    }

    /** How many times a batch was split because it did not fit the backend's memory (since creation). */
    public synchronized long batchSplits() {
        return batchSplits;
    }

    /** Rows {@code [from, from + count)} of a host tensor whose first dimension is the batch, as a view. */
    private static Tensor rows(Tensor t, int from, int count) {
        int[] shape = t.shape();
        long rowElements = t.elementCount() / shape[0];
        shape[0] = count;
        return t.view(from * rowElements, shape);
    }

    /** Frees every activation buffer so the halves of a split batch start from an empty pool. */
    private void releaseWorkspaces() {
        ws.close();
        encoder.releaseWorkspace();
    }

    private Tensor encodeInWorkspace(Tensor inputIds, Tensor lengths) {
        ShapeChecks.dtype("encode", "inputIds", inputIds, DType.INT32);
        if (inputIds.rank() != 2) {
            throw new IllegalArgumentException("encode: inputIds must be int32 [batch, seq] (found " + inputIds + ")");
        }
        int b = inputIds.dim(0);
        int s = inputIds.dim(1);
        if (s > maxSequenceLength) {
            throw new IllegalArgumentException("encode: sequence length " + s + " exceeds maxSequenceLength "
                    + maxSequenceLength + " of " + config.modelName());
        }
        int[] len = ShapeChecks.lengths("encode", lengths, b, s);
        int seq = 0;
        for (int l : len) {
            seq = Math.max(seq, l);
        }
        // copy ids into backend memory, trimmed to the longest row (padding columns never matter)
        int[] all = inputIds.toIntArray();
        int[] trimmed = new int[b * seq];
        for (int r = 0; r < b; r++) {
            System.arraycopy(all, r * s, trimmed, r * seq, seq);
        }
        Tensor ids = ws.get("ids", DType.INT32, b, seq);
        backend.write(ids, trimmed);
        Tensor lens = ws.get("lengths", DType.INT32, b);
        backend.write(lens, len);

        int d = bert.hidden();
        Tensor pooled;
        if (pooler.needsEveryLayer()) {
            pooled = ws.get("pooled", b, d);
            Tensor scratch = ws.get("pooled.layer", b, d);
            pooler.begin(backend, pooled);
            encoder.forward(ids, lens, (layer, hidden) -> pooler.acceptLayer(backend, layer, hidden, lens, pooled, scratch));
        } else {
            Tensor hidden = encoder.forward(ids, lens, null);
            lastHidden = hidden;
            if (head != null && config.headPerToken()) {
                Tensor tokens = ws.get("head.tokens", b * seq, head.outDim());
                head.apply(backend, hidden.reshape(b * seq, d), tokens, ws);
                hidden = tokens.reshape(b, seq, head.outDim());
            }
            pooled = ws.get("pooled", b, hidden.dim(2));
            pooler.poolFinal(backend, hidden, lens, pooled);
        }
        Tensor x = pooled;
        if (head != null && !config.headPerToken()) {
            Tensor projected = ws.get("projected", b, head.outDim());
            head.apply(backend, x, projected, ws);
            x = projected;
        }
        if (adapter != null) {
            Tensor adapted = ws.get("adapted", b, adapter.outDim());
            adapter.apply(backend, x, adapted, ws);
            x = adapted;
        }
        if (config.normalize()) {
            backend.transformer().l2Normalize(x, x);
        }
        return x;
    }

    /** The longest sequence {@link #encode} accepts. */
    public int maxSequenceLength() {
        return maxSequenceLength;
    }

    /** Width of the returned embeddings (after the head, if any). */
    public int dimension() {
        return dimension;
    }

    public String modelName() {
        return config.modelName();
    }

    public BertConfig bertConfig() {
        return bert;
    }

    public String backendName() {
        return backend.name();
    }

    @Override
    public synchronized void close() {
        ws.close();
        encoder.close();
        if (head != null) {
            head.close();
        }
        if (adapter != null) {
            adapter.close();
        }
        weights.close();
        backend.close();
    }
}
