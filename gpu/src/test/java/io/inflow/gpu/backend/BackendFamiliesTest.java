package io.inflow.gpu.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.cpu.CpuMemory;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.backend.cpu.ReferenceCpuBackend;
import io.inflow.gpu.backend.cpu.reference.ReferenceTransformerOps;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What each backend says it supports, and the error when a family is asked for that it lacks: it names the backend
 * and the family. The CPU backends and the CUDA backend (here on the emulated device) support every family.
 */
class BackendFamiliesTest {

    @Test
    void theCpuBackendsSupportTheirFamiliesAndRefuseTheOthers() {
        record Case(Backend backend, List<Family> has, List<Family> lacks, String list) {
        }
        for (Case c : List.of(
                new Case(new ReferenceCpuBackend(null), List.of(Family.values()), List.of(), ""),
                new Case(new FastCpuBackend(null, 1), List.of(Family.values()), List.of(), ""))) {
            Backend b = c.backend();
            try (b) {
                assertThat(b.families()).as(b.name()).containsExactlyElementsOf(c.has());
                assertThat(b.transformer()).isNotNull();
                assertThat(b.image()).isNotNull();
                if (b.supports(Family.RETRIEVAL)) {
                    assertThat(b.retrieval()).isNotNull();
                }
                if (b.supports(Family.CLUSTERING)) {
                    assertThat(b.clustering()).isNotNull();
                }
                if (b.supports(Family.QUANTIZED)) {
                    assertThat(b.quantized()).isNotNull();
                }
                for (Family f : c.lacks()) {
                    assertThat(b.supports(f)).as(b.name() + " " + f).isFalse();
                    assertThatThrownBy(() -> b.require(f))
                            .isInstanceOf(UnsupportedFamilyException.class)
                            .hasMessage("backend " + b.name() + " does not support the " + f
                                    + " family (it supports " + c.list() + ")");
                }
            }
        }
    }

    @Test
    void theCudaBackendSupportsEveryFamily() {
        try (Backend b = io.inflow.gpu.testing.EmulatedDevice.backendOrSkip()) {
            assertThat(b.families()).as(b.name()).containsExactly(Family.values());
            assertThat(b.transformer()).isNotNull();
            assertThat(b.image()).isNotNull();
            assertThat(b.retrieval()).isNotNull();
            assertThat(b.clustering()).isNotNull();
            assertThat(b.quantized()).isNotNull();
        }
    }

    @Test
    void askingForAnUnsupportedFamilyNamesTheBackendAndTheFamily() {
        try (Backend textOnly = new TransformerOnlyBackend()) {
            assertThat(textOnly.supports(Family.IMAGE)).isFalse();
            assertThat(textOnly.transformer()).isNotNull();
            assertThatThrownBy(textOnly::image)
                    .isInstanceOf(UnsupportedFamilyException.class)
                    .hasMessage("backend text-only does not support the IMAGE family (it supports TRANSFORMER)")
                    .satisfies(e -> assertThat(((UnsupportedFamilyException) e).family()).isEqualTo(Family.IMAGE));
        }
    }

    /** A backend with memory and the transformer family only: {@link Backend#image()} keeps its default. */
    private static final class TransformerOnlyBackend implements Backend {
        private final CpuMemory memory = new CpuMemory(null);
        private final TransformerOps transformer = new ReferenceTransformerOps(memory);

        @Override public BackendKind kind() { return BackendKind.CPU; }
        @Override public String name() { return "text-only"; }
        @Override public Set<Family> families() { return EnumSet.of(Family.TRANSFORMER); }
        @Override public TransformerOps transformer() { return transformer; }
        @Override public Tensor allocate(DType dtype, int... shape) { return memory.allocate(dtype, shape); }
        @Override public Tensor upload(float[] data, int... shape) { return memory.upload(data, shape); }
        @Override public Tensor upload(int[] data, int... shape) { return memory.upload(data, shape); }
        @Override public float[] download(Tensor t) { return memory.download(t); }
        @Override public void write(Tensor dst, int[] src) { memory.write(dst, src); }
        @Override public void copy(Tensor src, Tensor dst) { memory.copy(src, dst); }
        @Override public void close() { memory.close(); }
    }
}
