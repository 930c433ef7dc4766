package io.inflow.gpu.testing;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Map;

/**
 * ONNX Runtime (CPU) running the same model file, the peer our encoder is checked and timed against:
 * inputs input_ids, attention_mask, token_type_ids (int64 [b, s]), output last_hidden_state [b, s, d].
 *
 * <p>{@code float[] hidden = ort.lastHiddenState(batch); // [b * s * d]}
 */
public final class OrtEncoder implements AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;

    public OrtEncoder(String onnxResource, int threads) throws IOException, OrtException {
        byte[] model;
        try (InputStream in = OrtEncoder.class.getClassLoader().getResourceAsStream(onnxResource)) {
            if (in == null) {
                throw new IOException("ONNX resource not found: " + onnxResource);
            }
            model = in.readAllBytes();
        }
        env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(threads);
            opts.setInterOpNumThreads(1);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(model, opts);
        }
    }

    /** The last hidden state {@code [b, s, d]} flattened; padding positions are included as ORT computes them. */
    public float[] lastHiddenState(TokenBatch batch) throws OrtException {
        int n = batch.batch() * batch.seq();
        long[] ids = new long[n];
        long[] mask = new long[n];
        for (int b = 0; b < batch.batch(); b++) {
            for (int s = 0; s < batch.seq(); s++) {
                int i = b * batch.seq() + s;
                ids[i] = batch.ids()[i];
                mask[i] = s < batch.lengths()[b] ? 1 : 0;
            }
        }
        long[] shape = {batch.batch(), batch.seq()};
        try (OnnxTensor tIds = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
             OnnxTensor tMask = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
             OnnxTensor tTypes = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[n]), shape);
             OrtSession.Result r = session.run(Map.of("input_ids", tIds, "attention_mask", tMask, "token_type_ids", tTypes))) {
            OnnxTensor out = (OnnxTensor) r.get(0);
            FloatBuffer fb = out.getFloatBuffer();
            float[] hidden = new float[fb.remaining()];
            fb.get(hidden);
            return hidden;
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
