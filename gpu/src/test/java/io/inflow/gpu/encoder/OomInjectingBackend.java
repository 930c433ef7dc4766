package io.inflow.gpu.encoder;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.backend.OutOfDeviceMemoryException;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

/**
 * Test-only backend: a CPU backend whose {@link #allocate} throws the device pool's
 * {@link OutOfDeviceMemoryException} for any single allocation above {@link #limitBytes}, so the encoder's
 * split-and-retry runs without a GPU. The limit starts unlimited (weights load normally); set it afterwards.
 */
final class OomInjectingBackend implements Backend {
    private final Backend cpu;
    volatile long limitBytes = Long.MAX_VALUE;
    int refusals;

    OomInjectingBackend(Backend cpu) {
        this.cpu = cpu;
    }

    @Override
    public Tensor allocate(DType dtype, int... shape) {
        long bytes = Tensor.count(shape) * dtype.byteSize();
        if (bytes > limitBytes) {
            refusals++;
            throw new OutOfDeviceMemoryException(bytes, limitBytes, limitBytes, limitBytes);
        }
        return cpu.allocate(dtype, shape);
    }

    @Override
    public BackendKind kind() {
        return cpu.kind();
    }

    @Override
    public String name() {
        return "oom-injecting(" + cpu.name() + ")";
    }

    @Override
    public Tensor upload(float[] data, int... shape) {
        Tensor t = allocate(DType.FLOAT32, shape);
        t.copyFrom(data);
        return t;
    }

    @Override
    public Tensor upload(int[] data, int... shape) {
        Tensor t = allocate(DType.INT32, shape);
        t.copyFrom(data);
        return t;
    }

    @Override
    public float[] download(Tensor t) {
        return cpu.download(t);
    }

    @Override
    public void matmul(Tensor a, Tensor b, boolean transposeB, Tensor out) {
        cpu.matmul(a, b, transposeB, out);
    }

    @Override
    public void linear(Tensor x, Tensor weight, Tensor bias, Tensor out) {
        cpu.linear(x, weight, bias, out);
    }

    @Override
    public void addBias(Tensor x, Tensor bias) {
        cpu.addBias(x, bias);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        cpu.add(a, b, out);
    }

    @Override
    public void fill(Tensor x, float value) {
        cpu.fill(x, value);
    }

    @Override
    public void scaleAdd(Tensor acc, Tensor x, float alpha) {
        cpu.scaleAdd(acc, x, alpha);
    }

    @Override
    public void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out) {
        cpu.layerNorm(x, residual, gamma, beta, eps, out);
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        cpu.gelu(x, out);
    }

    @Override
    public void quickGelu(Tensor x, Tensor out) {
        cpu.quickGelu(x, out);
    }

    @Override
    public void glu(Tensor x, GluGate gate, Tensor out) {
        cpu.glu(x, gate, out);
    }

    @Override
    public void l2Normalize(Tensor x, Tensor out) {
        cpu.l2Normalize(x, out);
    }

    @Override
    public void embed(Tensor ids, Tensor tokenTypes, Tensor wordTable, Tensor positionTable, Tensor typeTable,
                      Tensor out) {
        cpu.embed(ids, tokenTypes, wordTable, positionTable, typeTable, out);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, Tensor lengths, int heads, Tensor out) {
        cpu.attention(q, k, v, lengths, heads, out);
    }

    @Override
    public void meanPool(Tensor hidden, Tensor lengths, Tensor out) {
        cpu.meanPool(hidden, lengths, out);
    }

    @Override
    public void firstTokenPool(Tensor hidden, Tensor out) {
        cpu.firstTokenPool(hidden, out);
    }

    @Override
    public void lastTokenPool(Tensor hidden, Tensor lengths, Tensor out) {
        cpu.lastTokenPool(hidden, lengths, out);
    }

    @Override
    public void preprocessImages(Tensor pixels, Tensor offsets, Tensor widths, Tensor heights, Tensor channels,
                                 ImagePreprocessConfig config, Tensor out) {
        cpu.preprocessImages(pixels, offsets, widths, heights, channels, config, out);
    }

    @Override
    public void patchify(Tensor pixels, int patch, Tensor out) {
        cpu.patchify(pixels, patch, out);
    }

    @Override
    public void close() {
        cpu.close();
    }
}
