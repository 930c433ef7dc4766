package io.inflow.gpu.encoder;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CudaAvailability;
import io.inflow.gpu.testing.EvalSentences;
import io.inflow.gpu.testing.CudaDevice;
import io.inflow.gpu.testing.MiniLm;
import io.inflow.gpu.testing.ModelTokenizer;
import io.inflow.gpu.testing.TokenBatch;
import io.inflow.gpu.testing.Vectors;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * MiniLM through the CUDA backend vs the CPU reference encoder on the evaluation sentences (1 to 256 tokens,
 * several scripts). Skipped with the reason where no CUDA device exists.
 */
@Tag("gpu")
class CudaTextEncoderTest {
    /**
     * BF16 GEMM inputs (relative rounding 2^-8) through six layers: per-sentence cosine to the float32 encoder stays
     * around 0.9999; 0.999 is the bar and leaves a 10x margin on the angle error.
     */
    static final double BF16_ENCODER_COSINE = 0.999;
    static final int BATCH = 32;

    @Test
    void miniLmOnCudaMatchesTheCpuReferenceEncoder() throws Exception {
        CudaAvailability.Result probe = CudaAvailability.probe();
        Assumptions.assumeTrue(probe.available(), () -> "no CUDA device: " + probe.reason());
        Assumptions.assumeTrue(CudaTextEncoderTest.class.getClassLoader().getResource(MiniLm.ONNX) != null,
                () -> "the MiniLM weights (" + MiniLm.ONNX + ", langchain4j's jar) are not on the classpath: the"
                        + " device kit leaves them behind; CudaRandomMiniLmTest covers the MiniLM shape there");
        List<String> sentences = EvalSentences.load();
        try (ModelTokenizer tokenizer = ModelTokenizer.fromResource(MiniLm.TOKENIZER, 256);
             BufferAllocator allocator = new RootAllocator();
             TextEncoder cpu = TextEncoder.create(TextEncoderConfig.builder().onnxResource(MiniLm.ONNX)
                     .backend(BackendKind.CPU).threads(2).build());
             TextEncoder gpu = TextEncoder.create(TextEncoderConfig.builder().onnxResource(MiniLm.ONNX)
                     .backend(BackendKind.CUDA).cuda(CudaDevice.config()).build())) {
            assertThat(gpu.backendName()).startsWith("cuda(");
            double worst = 1;
            for (int from = 0; from < sentences.size(); from += BATCH) {
                List<String> chunk = sentences.subList(from, Math.min(from + BATCH, sentences.size()));
                TokenBatch tb = tokenizer.batch(chunk);
                float[] expected = OrtParityTest.encode(cpu, tb, allocator);
                float[] actual = OrtParityTest.encode(gpu, tb, allocator);
                for (int r = 0; r < chunk.size(); r++) {
                    double cos = Vectors.cosine(actual, r * 384, expected, r * 384, 384);
                    worst = Math.min(worst, cos);
                    assertThat(cos).as("sentence " + (from + r) + ": " + chunk.get(r))
                            .isGreaterThanOrEqualTo(BF16_ENCODER_COSINE);
                }
            }
            System.out.println("CUDA vs CPU MiniLM: worst per-sentence cosine " + worst + " over " + sentences.size());
        }
    }
}
