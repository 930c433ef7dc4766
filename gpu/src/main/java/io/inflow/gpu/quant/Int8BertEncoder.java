package io.inflow.gpu.quant;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

/**
 * The integer-only BERT forward pass ({@link Int8Bert}) on any backend with the {@link Family#QUANTIZED} family:
 * from int32 token ids to the last layer's hidden states on the residual stream (INT32 at 2^-12), with no floating
 * point in between; {@link #forward} then converts them, exactly, to float32 for pooling. Not thread-safe.
 *
 * <pre>{@code
 * try (Int8BertEncoder enc = new Int8BertEncoder(backend, model)) {
 *     Tensor hidden = enc.forward(ids, lengths);    // FLOAT32 [b, s, d], valid until the next call
 * }
 * }</pre>
 */
public final class Int8BertEncoder implements AutoCloseable {
    private final Backend backend;
    private final QuantizedOps ops;
    private final Int8Bert model;
    private final Workspace ws;

    public Int8BertEncoder(Backend backend, Int8Bert model) {
        backend.require(Family.QUANTIZED);
        this.backend = backend;
        this.ops = backend.quantized();
        this.model = model;
        this.ws = new Workspace(backend);
    }

    public Int8Bert model() {
        return model;
    }

    public Backend backend() {
        return backend;
    }

    /** Hidden states as FLOAT32 {@code [b, s, d]} (a workspace view, valid until the next call). */
    public Tensor forward(Tensor ids, Tensor lengths) {
        Tensor x = forwardInteger(ids, lengths);
        Tensor out = ws.get("out", DType.FLOAT32, x.dim(0), x.dim(1));
        ops.dequantize(x, IntegerOps.RESIDUAL_BITS, out);
        return out.reshape(ids.dim(0), ids.dim(1), model.config().hidden());
    }

    /** Hidden states as INT32 {@code [b * s, d]} at 2^-12 (a workspace view, valid until the next call). */
    public Tensor forwardInteger(Tensor ids, Tensor lengths) {
        return forwardInteger(ids, lengths, null);
    }

    /**
     * As {@link #forwardInteger(Tensor, Tensor)}, handing each layer's output (INT32 {@code [b * s, d]} at 2^-12;
     * layer 0 is the embedding LayerNorm) to {@code sink} while it is valid.
     */
    public Tensor forwardInteger(Tensor ids, Tensor lengths, io.inflow.gpu.encoder.BertEncoder.LayerSink sink) {
        BertConfig c = model.config();
        int b = ids.dim(0);
        int s = ids.dim(1);
        int t = b * s;
        int d = c.hidden();
        Tensor x = ws.get("x", DType.INT32, t, d);
        Tensor xq = ws.get("xq", DType.INT8, t, d);
        Tensor qkv = ws.get("qkv", DType.INT8, t, 3 * d);
        Tensor ctx = ws.get("ctx", DType.INT8, t, d);
        Tensor acc = ws.get("acc", DType.INT32, t, d);
        Tensor mid = ws.get("mid", DType.INT32, t, d);
        Tensor midq = ws.get("midq", DType.INT8, t, d);
        Tensor ffn = ws.get("ffn", DType.INT32, t, c.intermediate());
        Tensor ffnq = ws.get("ffnq", DType.INT8, t, 2 * c.intermediate());
        ops.embed(ids, model.word(), model.position(), model.type(), x);
        ops.layerNorm(x, null, model.embeddingNorm(), xq, x);
        int index = 0;
        if (sink != null) {
            sink.accept(index, x);
        }
        for (Int8BertLayer l : model.layers()) {
            ops.linear(xq, l.qkv(), l.qkvOut(), qkv);
            ops.attention(qkv, lengths, b, s, c.heads(), l.score(), l.ctxOut(), ctx);
            ops.linear(ctx, l.attentionOut(), l.attentionOutToResidual(), acc);
            ops.layerNorm(acc, x, l.attentionNorm(), midq, mid);
            ops.linear(midq, l.intermediate(), l.intermediateToGelu(), ffn);
            ops.gelu(ffn, l.geluOut(), ffnq);
            ops.linearWide(ffnq, l.output(), l.outputToResidual(), acc);
            ops.layerNorm(acc, mid, l.outputNorm(), xq, x);
            index++;
            if (sink != null) {
                sink.accept(index, x);
            }
        }
        return x;
    }

    /** Frees the activation buffers; the model is a heap object and needs no closing. */
    @Override
    public void close() {
        ws.close();
    }
}
