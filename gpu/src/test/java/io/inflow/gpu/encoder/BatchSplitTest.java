package io.inflow.gpu.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.OutOfDeviceMemoryException;
import io.inflow.gpu.testing.MiniLm;
import io.inflow.gpu.testing.ModelTokenizer;
import io.inflow.gpu.testing.TokenBatch;
import io.inflow.gpu.testing.Vectors;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Split-and-retry of {@link TextEncoder#encode} when a batch does not fit the backend's memory pool, verified on
 * the CPU with a backend that refuses allocations above a size (as the CUDA pool would).
 */
class BatchSplitTest {
    /** Halves trim to their own longest row: different padding, same math; as TextEncoderTest.PADDING_COSINE. */
    static final double SPLIT_COSINE = 0.999999;
    static final int FFN = 1536;   // MiniLM's intermediate width: the largest activation per token

    static ModelTokenizer tokenizer;
    static final List<String> TEXTS = List.of("A man is eating food.", "A man is eating a piece of bread.",
            "The girl is carrying a baby.", "A man is riding a horse.", "Two men pushed carts through the woods.",
            "A woman is playing violin.", "Ok", "The new movie is awesome, really awesome, go and see it now");

    @BeforeAll
    static void load() throws Exception {
        tokenizer = ModelTokenizer.fromResource(MiniLm.TOKENIZER, 256);
    }

    @AfterAll
    static void unload() {
        tokenizer.close();
    }

    private static TextEncoder encoder(OomInjectingBackend backend) throws Exception {
        return TextEncoder.create(TextEncoderConfig.builder().onnxResource(MiniLm.ONNX).threads(2).build(), backend);
    }

    @Test
    void aBatchTooLargeForThePoolIsSplitInHalvesAndGivesTheSameEmbeddings() throws Exception {
        TokenBatch tb = tokenizer.batch(TEXTS);
        OomInjectingBackend backend = new OomInjectingBackend(Backends.create(BackendKind.CPU, 2));
        try (BufferAllocator allocator = new RootAllocator();
             TextEncoder plain = TextEncoder.create(TextEncoderConfig.builder().onnxResource(MiniLm.ONNX).threads(2)
                     .backend(BackendKind.CPU).build());
             TextEncoder limited = encoder(backend)) {
            float[] expected = OrtParityTest.encode(plain, tb, allocator);
            // room for the feed-forward activations of 2 rows at the full width: 8 rows -> 4 + 4 -> 2 + 2 + 2 + 2
            backend.limitBytes = 2L * tb.seq() * FFN * 4;
            float[] split = OrtParityTest.encode(limited, tb, allocator);
            assertThat(limited.batchSplits()).as("splits: 8 -> 4+4, each 4 -> 2+2").isEqualTo(3);
            assertThat(backend.refusals).isGreaterThanOrEqualTo(3);
            assertThat(split).hasSameSizeAs(expected);
            for (int r = 0; r < TEXTS.size(); r++) {
                assertThat(Vectors.cosine(split, r * 384, expected, r * 384, 384)).as("row " + r)
                        .isGreaterThanOrEqualTo(SPLIT_COSINE);
            }
            // the encoder still works at full size once memory allows it again
            backend.limitBytes = Long.MAX_VALUE;
            float[] again = OrtParityTest.encode(limited, tb, allocator);
            assertThat(Vectors.firstMismatch(again, expected, 1e-6, 1e-6)).isEqualTo(-1);
        }
    }

    @Test
    void aSingleRowThatDoesNotFitFails() throws Exception {
        TokenBatch tb = tokenizer.batch(TEXTS.subList(0, 2));
        OomInjectingBackend backend = new OomInjectingBackend(Backends.create(BackendKind.CPU, 2));
        try (BufferAllocator allocator = new RootAllocator(); TextEncoder limited = encoder(backend)) {
            backend.limitBytes = 64;
            assertThatThrownBy(() -> OrtParityTest.encode(limited, tb, allocator))
                    .isInstanceOf(OutOfDeviceMemoryException.class)
                    .hasMessageContaining("requested");
            assertThat(limited.batchSplits()).isEqualTo(1);   // 2 -> 1 + 1, then the single row fails
        }
    }
}
