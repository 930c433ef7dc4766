package io.inflow.gpu.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.backend.ImageOps;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.backend.cpu.fast.FastImageOps;
import io.inflow.gpu.backend.cpu.fast.FastTransformerOps;
import io.inflow.gpu.backend.cpu.fast.ParallelRunner;
import io.inflow.gpu.backend.cpu.reference.ReferenceImageOps;
import io.inflow.gpu.backend.cpu.reference.ReferenceTransformerOps;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kernels the fast CPU backend runs on the reference, pinned: adding a fast kernel or losing one changes this
 * list and fails here until it is updated. The declared list ({@link FastCpuBackend#fallbacks()}) is checked against
 * behaviour: every method of each family is called once on the fast implementation, whose reference is wrapped in a
 * recorder, and exactly the declared methods must reach it.
 */
class FastCpuFallbacksTest {
    private CpuMemory memory;
    private ParallelRunner runner;

    @BeforeEach
    void open() {
        memory = new CpuMemory(null);
        runner = new ParallelRunner(2);
    }

    @AfterEach
    void close() {
        runner.close();
        memory.close();     // fails if a test leaked a tensor
    }

    @Test
    void theFallbacksAreExactlyThese() {
        try (FastCpuBackend fast = new FastCpuBackend(null, 1)) {
            assertThat(fast.fallbacks()).containsExactly("transformer.addBias", "transformer.add", "transformer.fill",
                    "transformer.scaleAdd", "transformer.l2Normalize", "image.patchify");
        }
    }

    @Test
    void exactlyTheDeclaredTransformerKernelsReachTheReference() {
        Set<String> toReference = new TreeSet<>();
        Set<String> called = new TreeSet<>();
        TransformerOps reference = recording(TransformerOps.class, new ReferenceTransformerOps(memory), toReference);
        TransformerOps fast = recording(TransformerOps.class, new FastTransformerOps(runner, reference), called);
        try (Tensor x = memory.upload(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
             Tensor w = memory.upload(new float[] {1, 0, 0, 0, 1, 0, 0, 0, 1}, 3, 3);
             Tensor bias = memory.upload(new float[] {1, 2, 3}, 3);
             Tensor y = memory.allocate(DType.FLOAT32, 2, 3);
             Tensor seq = memory.upload(new float[] {1, 2, 3, 4, 5, 6}, 1, 2, 3);
             Tensor seqOut = memory.allocate(DType.FLOAT32, 1, 2, 3);
             Tensor qkv = memory.allocate(DType.FLOAT32, 3 * 6);
             Tensor lengths = memory.upload(new int[] {2}, 1);
             Tensor pooled = memory.allocate(DType.FLOAT32, 1, 3);
             Tensor ids = memory.upload(new int[] {0, 1}, 1, 2);
             Tensor glu = memory.allocate(DType.FLOAT32, 2, 1);
             Tensor gluIn = memory.upload(new float[] {1, 2, 3, 4}, 2, 2)) {
            fast.matmul(x, w, true, y);
            fast.addBias(y, bias);
            fast.linear(x, w, bias, y);
            fast.linearGelu(x, w, bias, y);
            fast.linearResidual(x, w, bias, y);
            fast.add(x, y, y);
            fast.fill(y, 1f);
            fast.scaleAdd(y, x, 0.5f);
            fast.layerNorm(x, y, bias, bias, 1e-5f, y);
            fast.gelu(x, y);
            fast.quickGelu(x, y);
            fast.glu(gluIn, GluGate.SIGMOID, glu);
            fast.l2Normalize(x, y);
            fast.embed(ids, null, w, w, null, seqOut);
            fast.attention(seq, seq, seq, lengths, 1, seqOut);
            fast.selfAttention(seq, w, bias, w, bias, w, bias, lengths, 1, qkv, seqOut);
            fast.meanPool(seq, lengths, pooled);
            fast.firstTokenPool(seq, pooled);
            fast.lastTokenPool(seq, lengths, pooled);
            fast.prepareWeights(w);                                  // load-time hints: no-ops on the CPU
            fast.prepareSelfAttention(w, bias, w, bias, w, bias);
            fast.layerNorm(x, null, bias, bias, 1e-5f, y, y);            // float32 activations: the plain LayerNorm
            assertThat(fast.activationType(32)).isEqualTo(DType.FLOAT32);
            boolean[] ran = {false};
            fast.recorded("key", () -> ran[0] = true);                // no graphs on the CPU: runs the pass
            assertThat(ran[0]).isTrue();
        }
        assertThat(called).as("every TransformerOps method was called").isEqualTo(methods(TransformerOps.class));
        assertThat(toReference).isEqualTo(new TreeSet<>(FastTransformerOps.FALLBACKS));
    }

    @Test
    void exactlyTheDeclaredImageKernelsReachTheReference() {
        Set<String> toReference = new TreeSet<>();
        Set<String> called = new TreeSet<>();
        ImageOps reference = recording(ImageOps.class, new ReferenceImageOps(), toReference);
        ImageOps fast = recording(ImageOps.class, new FastImageOps(runner, reference), called);
        ImagePreprocessConfig config = ImagePreprocessConfig.builder().size(2, 2).channels(1).build();
        try (Tensor pixels = memory.allocate(DType.UINT8, 4);
             Tensor offsets = memory.upload(new int[] {0, 4}, 2);
             Tensor widths = memory.upload(new int[] {2}, 1);
             Tensor heights = memory.upload(new int[] {2}, 1);
             Tensor channels = memory.upload(new int[] {1}, 1);
             Tensor input = memory.allocate(DType.FLOAT32, 1, 1, 2, 2);
             Tensor patches = memory.allocate(DType.FLOAT32, 4, 1)) {
            fast.preprocessImages(pixels, offsets, widths, heights, channels, config, input);
            fast.patchify(input, 1, patches);
        }
        assertThat(called).as("every ImageOps method was called").isEqualTo(methods(ImageOps.class));
        assertThat(toReference).isEqualTo(new TreeSet<>(FastImageOps.FALLBACKS));
    }

    private static Set<String> methods(Class<?> family) {
        Set<String> names = new TreeSet<>();
        Arrays.stream(family.getMethods()).map(Method::getName).forEach(names::add);
        return names;
    }

    /** {@code target} behind a proxy that records the name of every family method called on it. */
    private static <T> T recording(Class<T> family, T target, Set<String> calls) {
        return family.cast(Proxy.newProxyInstance(family.getClassLoader(), new Class<?>[] {family}, (p, m, args) -> {
            if (m.getDeclaringClass() == family) {
                calls.add(m.getName());
            }
            try {
                return m.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }));
    }
}
