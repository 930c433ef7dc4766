package io.inflow.gpu.bench;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.backend.ImageOps;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.encoder.BertEncoder;
import io.inflow.gpu.encoder.BertWeights;
import io.inflow.gpu.encoder.vit.VitConfig;
import io.inflow.gpu.encoder.vit.VitTransformer;
import io.inflow.gpu.encoder.vit.VitWeights;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.onnx.OnnxBertWeights;
import io.inflow.gpu.model.onnx.OnnxModel;
import io.inflow.gpu.model.safetensors.SafetensorsWeights;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Where a MiniLM forward pass spends its time, per backend kernel (a timing decorator around the fast CPU
 * backend's families). Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec
 * -Dbench.main=io.inflow.gpu.bench.KernelProfile -Dbench.args="2 32 128"} (threads, batch, seq), or
 * {@code -Dbench.args="vit 2 256"} for the bundled ViT (threads, batch), or {@code -Dbench.args="int8 2 32 128"} for
 * MiniLM's integer-only INT8 path (calibrated on 64 bundled texts first; the quantized family's ops timed).
 */
public final class KernelProfile implements Backend {
    private final Backend inner;
    private final Map<String, long[]> nanos = new TreeMap<>();

    private final TransformerOps transformer;
    private final ImageOps image;
    private final io.inflow.gpu.quant.QuantizedOps quantized;

    private KernelProfile(Backend inner) {
        this.inner = inner;
        this.transformer = new TimedTransformer();
        this.image = new TimedImage();
        this.quantized = inner.supports(Family.QUANTIZED) ? new TimedQuantized() : null;
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("int8")) {
            int8(args.length > 1 ? Integer.parseInt(args[1]) : 2, args.length > 2 ? Integer.parseInt(args[2]) : 32,
                    args.length > 3 ? Integer.parseInt(args[3]) : 128);
            return;
        }
        if (args.length > 0 && args[0].equals("vit")) {
            vit(args.length > 1 ? Integer.parseInt(args[1]) : 2, args.length > 2 ? Integer.parseInt(args[2]) : 256);
            return;
        }
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int seq = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        OnnxBertWeights src = new OnnxBertWeights(OnnxModel.fromClasspath("all-minilm-l6-v2.onnx"), "minilm");
        BertConfig c = src.inferConfig();
        int[] ids = new int[batch * seq];
        int[] len = new int[batch];
        java.util.Arrays.fill(len, seq);
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1996 + r.nextInt(28000);
        }
        try (KernelProfile p = new KernelProfile(Backends.create(BackendKind.CPU, threads));
             BertWeights w = BertWeights.load(src, c, p.inner);
             BertEncoder enc = new BertEncoder(p, c, w);
             Tensor idt = p.upload(ids, batch, seq);
             Tensor lent = p.upload(len, batch)) {
            long warm = System.nanoTime() + 4_000_000_000L;       // JIT warm-up: the Vector API needs C2
            do {
                enc.forward(idt, lent, null);
            } while (System.nanoTime() < warm);
            p.nanos.clear();
            int iters = 0;
            long t0 = System.nanoTime();
            do {
                enc.forward(idt, lent, null);
                iters++;
            } while (iters < 5 || System.nanoTime() - t0 < 3_000_000_000L);
            p.report("batch " + batch + " seq " + seq + " threads " + threads, iters, t0);
        }
    }

    /** MiniLM's integer-only path ({@code args: int8 threads batch seq}). */
    private static void int8(int threads, int batch, int seq) throws Exception {
        OnnxBertWeights src = new OnnxBertWeights(OnnxModel.fromClasspath("all-minilm-l6-v2.onnx"), "minilm");
        BertConfig c = src.inferConfig();
        int[] ids = new int[batch * seq];
        int[] len = new int[batch];
        java.util.Arrays.fill(len, seq);
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1996 + r.nextInt(28000);
        }
        try (KernelProfile p = new KernelProfile(Backends.create(BackendKind.CPU, threads));
             io.inflow.gpu.testing.ModelTokenizer tok = io.inflow.gpu.testing.ModelTokenizer.fromResource(
                     "all-minilm-l6-v2-tokenizer.json", 128)) {
            io.inflow.gpu.testing.TokenBatch cal = tok.batch(io.inflow.gpu.quant.CalibrationTexts.bundled().subList(0, 64));
            io.inflow.gpu.quant.Int8Bert q = io.inflow.gpu.quant.BertQuantizer.quantize(src, c, cal.ids(),
                    cal.lengths(), cal.batch(), cal.seq(), p.inner, io.inflow.gpu.quant.CalibrationOptions.defaults(),
                    null);
            try (io.inflow.gpu.quant.Int8BertEncoder enc = new io.inflow.gpu.quant.Int8BertEncoder(p, q);
                 Tensor idt = p.upload(ids, batch, seq);
                 Tensor lent = p.upload(len, batch)) {
                long warm = System.nanoTime() + 4_000_000_000L;
                do {
                    enc.forward(idt, lent);
                } while (System.nanoTime() < warm);
                p.nanos.clear();
                int iters = 0;
                long t0 = System.nanoTime();
                do {
                    enc.forward(idt, lent);
                    iters++;
                } while (iters < 5 || System.nanoTime() - t0 < 3_000_000_000L);
                p.report("int8 batch " + batch + " seq " + seq + " threads " + threads, iters, t0);
            }
        }
    }

    /** The bundled Fashion-MNIST ViT ({@code args: vit threads batch}). */
    private static void vit(int threads, int batch) throws Exception {
        Path dir = Path.of(KernelProfile.class.getClassLoader().getResource("models/vit-fashion-mnist/config.json")
                .toURI()).getParent();
        VitConfig c = VitConfig.read(dir.resolve("config.json"));
        float[] pixels = new float[batch * c.channels() * c.imageSize() * c.imageSize()];
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = r.nextFloat() * 2 - 1;
        }
        try (KernelProfile p = new KernelProfile(Backends.create(BackendKind.CPU, threads));
             SafetensorsWeights src = SafetensorsWeights.open(dir);
             VitWeights w = VitWeights.load(src, c, p.inner);
             VitTransformer vit = new VitTransformer(p, c, w);
             Tensor px = p.upload(pixels, batch, c.channels(), c.imageSize(), c.imageSize())) {
            long warm = System.nanoTime() + 4_000_000_000L;
            do {
                vit.forward(px);
            } while (System.nanoTime() < warm);
            p.nanos.clear();
            int iters = 0;
            long t0 = System.nanoTime();
            do {
                vit.forward(px);
                iters++;
            } while (iters < 5 || System.nanoTime() - t0 < 3_000_000_000L);
            p.report("vit batch " + batch + " threads " + threads, iters, t0);
        }
    }

    private void report(String what, int n, long t0) {
        double total = (System.nanoTime() - t0) / 1e6 / n;
        System.out.printf("%s: %.2f ms per forward%n", what, total);
        nanos.forEach((k, v) -> System.out.printf("  %-12s %8.2f ms  (%4.1f%%, %d calls)%n", k, v[0] / 1e6 / n,
                100.0 * v[0] / 1e6 / n / total, v[1] / n));
    }

    private <T> T timed(String op, Supplier<T> body) {
        long t = System.nanoTime();
        T result = body.get();
        long[] acc = nanos.computeIfAbsent(op, k -> new long[2]);
        acc[0] += System.nanoTime() - t;
        acc[1]++;
        return result;
    }

    private void timed(String op, Runnable body) {
        timed(op, () -> {
            body.run();
            return null;
        });
    }

    @Override public BackendKind kind() { return inner.kind(); }
    @Override public String name() { return "profile(" + inner.name() + ")"; }
    @Override public Set<Family> families() { return inner.families(); }
    @Override public TransformerOps transformer() { return transformer; }
    @Override public ImageOps image() { return image; }
    @Override public io.inflow.gpu.quant.QuantizedOps quantized() { return quantized; }
    @Override public Tensor allocate(DType dtype, int... shape) { return inner.allocate(dtype, shape); }
    @Override public Tensor upload(float[] data, int... shape) { return inner.upload(data, shape); }
    @Override public Tensor upload(int[] data, int... shape) { return inner.upload(data, shape); }
    @Override public float[] download(Tensor t) { return inner.download(t); }
    @Override public int[] downloadInts(Tensor t) { return inner.downloadInts(t); }
    @Override public void write(Tensor dst, int[] src) { inner.write(dst, src); }
    @Override public void copy(Tensor src, Tensor dst) { inner.copy(src, dst); }
    @Override public void close() { inner.close(); }

    /** The inner backend's transformer family, each call timed. */
    private final class TimedTransformer implements TransformerOps {
        private final TransformerOps t = inner.transformer();

        @Override public void matmul(Tensor a, Tensor b, boolean tb, Tensor out) { timed("matmul", () -> t.matmul(a, b, tb, out)); }
        @Override public void addBias(Tensor x, Tensor bias) { timed("addBias", () -> t.addBias(x, bias)); }
        @Override public void linear(Tensor x, Tensor w, Tensor b, Tensor out) { timed("linear", () -> t.linear(x, w, b, out)); }
        @Override public void linearGelu(Tensor x, Tensor w, Tensor b, Tensor out) { timed("linearGelu", () -> t.linearGelu(x, w, b, out)); }
        @Override public void linearResidual(Tensor x, Tensor w, Tensor b, Tensor out) { timed("linearResidual", () -> t.linearResidual(x, w, b, out)); }
        @Override public void add(Tensor a, Tensor b, Tensor out) { timed("add", () -> t.add(a, b, out)); }
        @Override public void fill(Tensor x, float v) { timed("fill", () -> t.fill(x, v)); }
        @Override public void scaleAdd(Tensor acc, Tensor x, float a) { timed("scaleAdd", () -> t.scaleAdd(acc, x, a)); }
        @Override public void layerNorm(Tensor x, Tensor r, Tensor g, Tensor b, float e, Tensor o) { timed("layerNorm", () -> t.layerNorm(x, r, g, b, e, o)); }
        @Override public void gelu(Tensor x, Tensor out) { timed("gelu", () -> t.gelu(x, out)); }
        @Override public void quickGelu(Tensor x, Tensor out) { timed("quickGelu", () -> t.quickGelu(x, out)); }
        @Override public void glu(Tensor x, GluGate g, Tensor out) { timed("glu", () -> t.glu(x, g, out)); }
        @Override public void l2Normalize(Tensor x, Tensor out) { timed("l2Normalize", () -> t.l2Normalize(x, out)); }
        @Override public void embed(Tensor i, Tensor ty, Tensor w, Tensor p, Tensor tt, Tensor o) { timed("embed", () -> t.embed(i, ty, w, p, tt, o)); }
        @Override public void attention(Tensor q, Tensor k, Tensor v, Tensor l, int h, Tensor o) { timed("attention", () -> t.attention(q, k, v, l, h, o)); }
        @Override public void selfAttention(Tensor x, Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv, Tensor l, int h, Tensor qkv, Tensor o) { timed("selfAttn", () -> t.selfAttention(x, wq, bq, wk, bk, wv, bv, l, h, qkv, o)); }
        @Override public void meanPool(Tensor h, Tensor l, Tensor o) { timed("meanPool", () -> t.meanPool(h, l, o)); }
        @Override public void firstTokenPool(Tensor h, Tensor o) { timed("firstTokenPool", () -> t.firstTokenPool(h, o)); }
        @Override public void lastTokenPool(Tensor h, Tensor l, Tensor o) { timed("lastTokenPool", () -> t.lastTokenPool(h, l, o)); }
    }

    /** The inner backend's image family, each call timed. */
    private final class TimedImage implements ImageOps {
        private final ImageOps i = inner.image();

        @Override public void preprocessImages(Tensor px, Tensor off, Tensor w, Tensor h, Tensor c, ImagePreprocessConfig cfg, Tensor o) { timed("preprocess", () -> i.preprocessImages(px, off, w, h, c, cfg, o)); }
        @Override public void patchify(Tensor px, int p, Tensor o) { timed("patchify", () -> i.patchify(px, p, o)); }
    }

    /** The inner backend's quantized family, each call timed. */
    private final class TimedQuantized implements io.inflow.gpu.quant.QuantizedOps {
        private final io.inflow.gpu.quant.QuantizedOps q = inner.quantized();

        @Override public void linear(Tensor x, io.inflow.gpu.quant.Int8Linear w, io.inflow.gpu.quant.Requant r, Tensor o) { timed("q.linear", () -> q.linear(x, w, r, o)); }
        @Override public void linearWide(Tensor x, io.inflow.gpu.quant.Int8Linear w, io.inflow.gpu.quant.Requant r, Tensor o) { timed("q.linearWide", () -> q.linearWide(x, w, r, o)); }
        @Override public void attention(Tensor qkv, Tensor l, int b, int s, int h, io.inflow.gpu.quant.Dyadic d, io.inflow.gpu.quant.Requant r, Tensor o) { timed("q.attention", () -> q.attention(qkv, l, b, s, h, d, r, o)); }
        @Override public void layerNorm(Tensor x, Tensor res, io.inflow.gpu.quant.IntLayerNorm ln, Tensor i8, Tensor ro) { timed("q.layerNorm", () -> q.layerNorm(x, res, ln, i8, ro)); }
        @Override public void gelu(Tensor x, io.inflow.gpu.quant.Requant r, Tensor o) { timed("q.gelu", () -> q.gelu(x, r, o)); }
        @Override public void embed(Tensor i, io.inflow.gpu.quant.Int8Embedding w, io.inflow.gpu.quant.Int8Embedding p, io.inflow.gpu.quant.Int8Embedding t, Tensor o) { timed("q.embed", () -> q.embed(i, w, p, t, o)); }
        @Override public void dequantize(Tensor x, int f, Tensor o) { timed("q.dequantize", () -> q.dequantize(x, f, o)); }
        @Override public void quantize(Tensor x, float s, Tensor o) { timed("q.quantize", () -> q.quantize(x, s, o)); }
        @Override public void add(Tensor a, Tensor b, Tensor o) { timed("q.add", () -> q.add(a, b, o)); }
    }
}
