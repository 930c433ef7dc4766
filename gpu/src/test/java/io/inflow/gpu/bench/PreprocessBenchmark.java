package io.inflow.gpu.bench;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.backend.cpu.ReferenceCpuBackend;
import io.inflow.gpu.backend.cuda.CudaAvailability;
import io.inflow.gpu.backend.cuda.CudaBackend;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.image.DecodedImage;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.image.Interpolation;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.FashionMnist;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * Image preprocessing throughput through {@link io.inflow.gpu.backend.ImageOps#preprocessImages} (images/s; input a
 * {@link DecodedImageBatch} in host Arrow memory, output float32 in backend memory, so CUDA's figure includes the
 * host-to-device copy of the samples) on the reference and fast CPU backends and, where a device exists, CUDA. Two
 * workloads: the Fashion-MNIST ViT's config on the 1,000-image sample (28 x 28 gray, identity size: normalisation
 * only) and a CLIP-style config (RGB 640 x 480 noise, bicubic shortest edge 256, centre crop 224). Each backend's
 * output is first checked against {@link ImagePreprocessor} (reference CPU: identical; fast CPU: within 3.5e-4 of an
 * 8-bit step where it resamples in float32, identical elsewhere; CUDA: within 1e-3 of a step).
 *
 * <p>Run alone: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec
 * -Dbench.main=io.inflow.gpu.bench.PreprocessBenchmark -Dbench.args="threads=2 seconds=2"}; {@link VitBenchmark}
 * runs it too.
 */
public final class PreprocessBenchmark {
    /** Largest difference to the reference accepted on CUDA, in 0..255 sample units (CudaImageContractTest's). */
    static final double CUDA_SAMPLE_TOLERANCE = 1e-3;
    /** The same for the fast CPU backend's float32 resampling (FastCpuImageContractTest's, derived there). */
    static final double FAST_CPU_SAMPLE_TOLERANCE = 0.5 * Math.sqrt(2 * 170) * Math.ulp(255f * 1.25f) * 1.25;
    static final int CLIP_IMAGES = 32;

    private PreprocessBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int threads = 2;
        double seconds = 2;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "threads" -> threads = Integer.parseInt(kv[1]);
                case "seconds" -> seconds = Double.parseDouble(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a + " (threads=, seconds=)");
            }
        }
        run(threads, seconds);
    }

    /** Prints one line per workload and backend. */
    static void run(int threads, double seconds) throws Exception {
        FashionMnist sample = FashionMnist.sample();
        List<DecodedImage> mnist = new ArrayList<>();
        for (int i = 0; i < sample.size(); i++) {
            mnist.add(sample.image(i));
        }
        ImagePreprocessConfig mnistConfig = ImagePreprocessConfig.fromModelConfig(PreprocessBenchmark.class
                .getClassLoader().getResourceAsStream(VitBenchmark.MODEL + "/config.json"));
        Random random = new Random(7);
        List<DecodedImage> photos = new ArrayList<>();
        for (int i = 0; i < CLIP_IMAGES; i++) {
            byte[] px = new byte[640 * 480 * 3];
            random.nextBytes(px);
            photos.add(new DecodedImage(640, 480, 3, px, null));
        }
        ImagePreprocessConfig clipConfig = ImagePreprocessConfig.builder().size(224, 224).channels(3)
                .resizeShortestEdge(256).interpolation(Interpolation.BICUBIC)
                .mean(0.48145466f, 0.4578275f, 0.40821073f).std(0.26862954f, 0.26130258f, 0.27577711f).build();

        CudaAvailability.Result probe = CudaAvailability.probe();
        if (!probe.available()) {
            System.out.println("preprocessing on CUDA: skipped (no CUDA device: " + probe.reason() + ")");
        }
        try (BufferAllocator allocator = new RootAllocator();
             DecodedImageBatch mnistBatch = batch(allocator, mnist);
             DecodedImageBatch photoBatch = batch(allocator, photos)) {
            List<Backend> backends = new ArrayList<>();
            try {
                backends.add(new ReferenceCpuBackend(null));
                backends.add(new FastCpuBackend(null, threads));
                if (probe.available()) {
                    backends.add(Backends.cuda(CudaBackendConfig.fromSystemProperties()));
                }
                for (Backend backend : backends) {
                    report(backend, "28x28 gray -> 1x28x28 (Fashion-MNIST ViT)", mnistBatch, mnist, mnistConfig,
                            seconds);
                    report(backend, "640x480 RGB -> bicubic 256 + crop 3x224x224", photoBatch, photos, clipConfig,
                            seconds);
                }
            } finally {
                for (Backend b : backends) {
                    b.close();
                }
            }
        }
    }

    private static void report(Backend backend, String workload, DecodedImageBatch batch, List<DecodedImage> images,
                               ImagePreprocessConfig config, double seconds) throws Exception {
        int b = batch.rowCount();
        Tensor[] in = {
                Tensor.wrap(batch.pixelsBuffer(), DType.UINT8, (int) batch.pixelBytes()),
                Tensor.wrap(batch.offsetsBuffer(), DType.INT32, b + 1),
                Tensor.wrap(batch.widthsBuffer(), DType.INT32, b),
                Tensor.wrap(batch.heightsBuffer(), DType.INT32, b),
                Tensor.wrap(batch.channelsBuffer(), DType.INT32, b)};
        try (Tensor out = backend.allocate(DType.FLOAT32, b, config.channels(), config.height(), config.width())) {
            BenchTiming.Work call = () -> {
                backend.image().preprocessImages(in[0], in[1], in[2], in[3], in[4], config, out);
                if (backend instanceof CudaBackend cuda) {
                    cuda.synchronize();
                }
            };
            call.run();
            verify(backend, out, images, config);
            double s = BenchTiming.secondsPerCall(call, seconds);
            System.out.printf("preprocessing %-46s %-34s %10.0f images/s  (batch %d, %.1f MB of samples in)%n",
                    workload, backend.name(), b / s, b, batch.pixelBytes() / 1e6);
        }
    }

    private static void verify(Backend backend, Tensor out, List<DecodedImage> images, ImagePreprocessConfig config) {
        ImagePreprocessor reference = new ImagePreprocessor(config);
        float[] got = backend.download(out);
        int n = reference.outputFloats();
        int plane = config.height() * config.width();
        double limit = backend.kind() == BackendKind.CUDA ? CUDA_SAMPLE_TOLERANCE
                : backend instanceof FastCpuBackend ? FAST_CPU_SAMPLE_TOLERANCE : 0;
        for (int i = 0; i < images.size(); i += Math.max(1, images.size() / 16)) {   // 16 images spread over the batch
            float[] want = reference.preprocess(images.get(i));
            for (int j = 0; j < n; j++) {
                double tol = limit * config.rescale() / config.std()[j / plane];
                if (!(Math.abs(got[i * n + j] - want[j]) <= tol)) {
                    throw new IllegalStateException(backend.name() + ": image " + i + " element " + j + " is "
                            + got[i * n + j] + ", the reference " + want[j]);
                }
            }
        }
    }

    private static DecodedImageBatch batch(BufferAllocator allocator, List<DecodedImage> images) {
        DecodedImageBatch batch = new DecodedImageBatch(allocator, images.size());
        images.forEach(batch::append);
        return batch;
    }
}
