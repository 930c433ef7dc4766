package io.inflow.gpu.testing;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.inflow.gpu.batch.ImageBatch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;

/**
 * ONNX Runtime as the reference for the ViT: opens the exported model from the classpath and runs it on the pixels
 * of an {@link ImageBatch}, read in place through a direct buffer.
 *
 * <p>{@code try (OrtSession.Result r = OrtVit.run(session, OrtVit.pixels(batch, n), n, 28)) { ... }}
 */
public final class OrtVit {

    private OrtVit() {
    }

    /** A session on {@code <modelDir>/model.onnx} from the classpath with {@code threads} intra-op threads. */
    public static OrtSession open(String modelDir, int threads) throws IOException, OrtException {
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
             InputStream onnx = OrtVit.class.getClassLoader().getResourceAsStream(modelDir + "/model.onnx")) {
            if (onnx == null) {
                throw new IOException("resource not found: " + modelDir + "/model.onnx");
            }
            opts.setIntraOpNumThreads(threads);
            return OrtEnvironment.getEnvironment().createSession(onnx.readAllBytes(), opts);
        }
    }

    /** The first {@code rows} rows of the batch's pixel values as a float view of the Arrow buffer (no copy). */
    public static FloatBuffer pixels(ImageBatch batch, int rows) {
        return batch.pixelValuesBuffer().nioBuffer(0, rows * batch.rowFloats() * Float.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    }

    /** Runs the model on {@code rows} single-channel {@code side x side} images; the caller closes the result. */
    public static OrtSession.Result run(OrtSession session, FloatBuffer pixels, int rows, int side)
            throws OrtException {
        try (OnnxTensor input = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), pixels.duplicate(),
                new long[] {rows, 1, side, side})) {
            return session.run(Map.of("pixel_values", input));
        }
    }
}
