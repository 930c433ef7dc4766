package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.Interpolation;
import io.inflow.gpu.image.ResizeGeometry;
import io.inflow.gpu.image.Resampler;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code ImageOps.preprocessImages} on the fast CPU backend: the steps of
 * {@link io.inflow.gpu.image.ImagePreprocessor} (colour conversion, resize, centre crop, normalisation), computing
 * only what the crop keeps. Identity sizes and NEAREST copy samples through index maps ({@link IndexedCopy},
 * bit-identical to the reference); BILINEAR and BICUBIC resample in float32 ({@link SeparableResample}: float
 * weights from {@link Resampler.Coefficients}, float accumulation: a few ulps of 255 from the double-precision
 * reference, growing like the square root of the taps, i.e. of the shrink factor). Images are spread over the
 * runner's threads; when there are fewer images than tasks worth having, each image is split into blocks of output
 * rows.
 *
 * <p>{@code
 * FastImagePreprocess.preprocess(pixels.address(), offsets, widths, heights, channels, config, out.address(), runner);
 * }
 */
public final class FastImagePreprocess {
    /** Tasks per thread aimed at, so that uneven tasks still balance. */
    private static final int TASKS_PER_THREAD = 4;
    /** Fewest output rows in a block of a split image (each block re-reads its first source rows). */
    private static final int MIN_BLOCK_ROWS = 8;
    private static final ThreadLocal<SeparableResample.Scratch> SCRATCH =
            ThreadLocal.withInitial(SeparableResample.Scratch::new);

    private FastImagePreprocess() {
    }

    /**
     * How an image is computed: index maps (identity, NEAREST) or filter taps with the number of channels resampled
     * (1 when the output is gray or the input is: gray is replicated after), and its estimated work.
     */
    private record Plan(int[] mapX, int[] mapY, ResampleTaps tx, ResampleTaps ty, int workChannels, long work) {
    }

    /** What a plan depends on besides the config. */
    private record Source(int width, int height, int channels) {
    }

    /**
     * Preprocesses every image of a decoded-image batch (already checked: offsets, sizes and channels consistent)
     * into {@code out}, {@code float32 [b, channels, height, width]} of {@code config}.
     *
     * @param pixels address of the batch's 8-bit samples; image {@code i} starts at {@code pixels + offsets[i]}
     */
    public static void preprocess(long pixels, int[] offsets, int[] widths, int[] heights, int[] channels,
                                  ImagePreprocessConfig config, long out, ParallelRunner runner) {
        int n = widths.length;
        if (n == 0) {
            return;
        }
        SampleNormaliser norm = SampleNormaliser.of(config);
        Map<Source, Plan> cache = new HashMap<>();
        Plan[] plans = new Plan[n];
        long work = 0;
        for (int i = 0; i < n; i++) {
            boolean asBefore = i > 0 && widths[i] == widths[i - 1] && heights[i] == heights[i - 1]
                    && channels[i] == channels[i - 1];                       // the common case: one size per batch
            plans[i] = asBefore ? plans[i - 1]
                    : cache.computeIfAbsent(new Source(widths[i], heights[i], channels[i]), k -> plan(config, k));
            work += plans[i].work();
        }
        int h = config.height();
        int blocks = Math.max(1, Math.min((TASKS_PER_THREAD * runner.threads() + n - 1) / n, h / MIN_BLOCK_ROWS));
        int rowsPerBlock = (h + blocks - 1) / blocks;
        int c = config.channels();
        long imageBytes = 4L * c * h * config.width();
        boolean clamp = config.interpolation() == Interpolation.BICUBIC;
        runner.parallelFor(n * blocks, work, task -> {
            int i = task / blocks;
            int y0 = (task % blocks) * rowsPerBlock;
            int y1 = Math.min(h, y0 + rowsPerBlock);
            if (y0 >= y1) {
                return;
            }
            Plan p = plans[i];
            long src = pixels + offsets[i];
            long dst = out + i * imageBytes;
            if (p.mapX() != null) {
                IndexedCopy.rows(src, widths[i], channels[i], p.mapX(), p.mapY(), y0, y1, norm, c, dst);
            } else {
                SeparableResample.rows(src, widths[i], channels[i], p.workChannels(), p.tx(), p.ty(), y0, y1, clamp,
                        norm, c, dst, SCRATCH.get());
            }
        });
    }

    private static Plan plan(ImagePreprocessConfig config, Source s) {
        int w = s.width();
        int h = s.height();
        ResizeGeometry g = ResizeGeometry.of(config, w, h);
        int cw = config.width();
        int ch = config.height();
        int c = config.channels();
        if (g.isIdentity(w, h) || config.interpolation() == Interpolation.NEAREST) {
            return new Plan(indexMap(w, g.resizedWidth(), g.left(), cw), indexMap(h, g.resizedHeight(), g.top(), ch),
                    null, null, 0, 4L * c * ch * cw);
        }
        ResampleTaps tx = ResampleTaps.of(w, g.resizedWidth(), config.interpolation(), g.left(), cw);
        ResampleTaps ty = ResampleTaps.of(h, g.resizedHeight(), config.interpolation(), g.top(), ch);
        int wc = s.channels() == 3 && c == 3 ? 3 : 1;
        long vertical = 2L * ch * (tx.hi - tx.lo) * wc * ty.taps;
        long horizontal = 2L * ch * cw * wc * tx.taps;
        long convert = 2L * (ty.hi - ty.lo) * (tx.hi - tx.lo) * s.channels();
        return new Plan(null, null, tx, ty, wc, vertical + horizontal + convert + 4L * c * ch * cw);
    }

    /** Input index of outputs {@code from .. from + size - 1} of a NEAREST resize {@code in -> out} (or identity). */
    private static int[] indexMap(int in, int out, int from, int size) {
        int[] map = new int[size];
        for (int i = 0; i < size; i++) {
            map[i] = in == out ? from + i : Resampler.nearestIndex(from + i, in, out);
        }
        return map;
    }
}
