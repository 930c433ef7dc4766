package io.inflow.gpu.encoder;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.onnx.OnnxBertWeights;
import io.inflow.gpu.model.onnx.OnnxModel;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.*;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScratchTest {
    @Test
    void pair() throws Exception {
        OnnxBertWeights src = new OnnxBertWeights(OnnxModel.fromClasspath("all-minilm-l6-v2.onnx"), "minilm");
        BertConfig cfg = src.inferConfig();
        System.out.println(cfg);
        try (Backend be = Backends.create(BackendKind.CPU, 2);
             BertWeights w = BertWeights.load(src, cfg, be);
             BertEncoder enc = new BertEncoder(be, cfg, w);
             ModelTokenizer tok = ModelTokenizer.fromResource("all-minilm-l6-v2-tokenizer.json", 256);
             OrtEncoder ort = new OrtEncoder("all-minilm-l6-v2.onnx", 2)) {
            TokenBatch tb = tok.batch(List.of("A man is eating food.", "A man is eating a piece of bread."));
            try (Tensor ids = be.upload(tb.ids(), tb.batch(), tb.seq()); Tensor len = be.upload(tb.lengths(), tb.batch());
                 Tensor pooled = be.allocate(DType.FLOAT32, tb.batch(), 384)) {
                Tensor h = enc.forward(ids, len, null);
                be.meanPool(h, len, pooled);
                float[] ours = pooled.toFloatArray();
                float[] theirs = Vectors.meanPool(ort.lastHiddenState(tb), tb.lengths(), tb.seq(), 384);
                System.out.println("ours pair cos " + Vectors.cosine(ours, 0, ours, 384, 384));
                System.out.println("ort pair cos " + Vectors.cosine(theirs, 0, theirs, 384, 384));
                System.out.println("ours vs ort " + Vectors.cosine(ours, 0, theirs, 0, 384) + " " + Vectors.cosine(ours, 384, theirs, 384, 384));
            }
        }
    }
}
