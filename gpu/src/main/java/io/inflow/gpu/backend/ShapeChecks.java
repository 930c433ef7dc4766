package io.inflow.gpu.backend;

import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.Arrays;

/**
 * Argument checks shared by every backend, so that each kernel fails the same way on bad input with a
 * message that names the operation, the argument and both shapes.
 *
 * <p>{@code ShapeChecks.matrix("linear", "x", x, DType.FLOAT32);}
 */
public final class ShapeChecks {
    private ShapeChecks() {
    }

    /** Requires {@code t} to have {@code dtype}; returns it. */
    public static Tensor dtype(String op, String arg, Tensor t, DType dtype) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + arg + " is null");
        }
        if (t.dtype() != dtype) {
            throw new IllegalArgumentException(op + ": " + arg + " must be " + dtype + " (found " + t + ")");
        }
        return t;
    }

    /** Requires a float32 tensor of rank 2 or more, seen as a matrix {@code [prod(leading), last]}: returns {rows, cols}. */
    public static int[] matrix(String op, String arg, Tensor t) {
        dtype(op, arg, t, DType.FLOAT32);
        if (t.rank() < 2) {
            throw new IllegalArgumentException(op + ": " + arg + " must be a matrix (found " + t + ")");
        }
        int cols = t.dim(-1);
        return new int[] {Math.toIntExact(t.elementCount() / Math.max(cols, 1)), cols};
    }

    /** Requires a float32 tensor of exactly {@code shape}. */
    public static void shape(String op, String arg, Tensor t, int... shape) {
        dtype(op, arg, t, DType.FLOAT32);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(op + ": " + arg + " expected shape " + Arrays.toString(shape)
                    + ", found " + Arrays.toString(t.shape()));
        }
    }

    /** Requires two float32 tensors with the same element count. */
    public static void sameSize(String op, String argA, Tensor a, String argB, Tensor b) {
        dtype(op, argA, a, DType.FLOAT32);
        dtype(op, argB, b, DType.FLOAT32);
        if (a.elementCount() != b.elementCount()) {
            throw new IllegalArgumentException(op + ": " + argA + " " + Arrays.toString(a.shape()) + " and " + argB
                    + " " + Arrays.toString(b.shape()) + " differ in size");
        }
    }

    /** Requires a float32 {@code [b, s, d]} tensor; returns {b, s, d}. */
    public static int[] sequence(String op, String arg, Tensor t) {
        dtype(op, arg, t, DType.FLOAT32);
        if (t.rank() != 3) {
            throw new IllegalArgumentException(op + ": " + arg + " must be [batch, seq, dim] (found " + t + ")");
        }
        return t.shape();
    }

    /** Requires int32 {@code lengths[batch]} with each value in {@code [1, seq]}; returns them. */
    public static int[] lengths(String op, Tensor lengths, int batch, int seq) {
        dtype(op, "lengths", lengths, DType.INT32);
        if (lengths.rank() != 1 || lengths.dim(0) != batch) {
            throw new IllegalArgumentException(op + ": lengths expected shape [" + batch + "], found "
                    + Arrays.toString(lengths.shape()));
        }
        int[] len = lengths.toIntArray();
        for (int b = 0; b < batch; b++) {
            if (len[b] < 1 || len[b] > seq) {
                throw new IllegalArgumentException(op + ": lengths[" + b + "] = " + len[b]
                        + " outside [1, " + seq + "] (sequence length " + seq + ")");
            }
        }
        return len;
    }

    /** Requires a tensor of {@code dtype} and exactly {@code shape} (any dtype, unlike {@link #shape}). */
    public static void shapeOf(String op, String arg, Tensor t, DType dtype, int... shape) {
        dtype(op, arg, t, dtype);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(op + ": " + arg + " expected " + dtype + " " + Arrays.toString(shape)
                    + ", found " + Arrays.toString(t.shape()));
        }
    }

    /**
     * The shapes of {@code preprocessImages}: uint8 {@code pixels [bytes]}, int32 {@code offsets [b + 1]}, int32
     * {@code widths}, {@code heights}, {@code channels [b]}, float32 {@code out [b, c, h, w]} of the config's size.
     * Returns {@code b} (the length of {@code widths}).
     */
    public static int images(String op, Tensor pixels, Tensor offsets, Tensor widths, Tensor heights, Tensor channels,
                             ImagePreprocessConfig config, Tensor out) {
        if (config == null) {
            throw new IllegalArgumentException(op + ": config is null");
        }
        dtype(op, "pixels", pixels, DType.UINT8);
        if (pixels.rank() != 1) {
            throw new IllegalArgumentException(op + ": pixels must be uint8 [bytes] (found " + pixels + ")");
        }
        dtype(op, "widths", widths, DType.INT32);
        if (widths.rank() != 1) {
            throw new IllegalArgumentException(op + ": widths must be int32 [batch] (found " + widths + ")");
        }
        int b = widths.dim(0);
        shapeOf(op, "heights", heights, DType.INT32, b);
        shapeOf(op, "channels", channels, DType.INT32, b);
        shapeOf(op, "offsets", offsets, DType.INT32, b + 1);
        shape(op, "out", out, b, config.channels(), config.height(), config.width());
        return b;
    }

    /**
     * The per-image values of {@code preprocessImages}, already on the host: sizes positive, channels 1 or 3, row
     * {@code i} holding exactly {@code heights[i] * widths[i] * channels[i]} bytes from {@code offsets[i]}, and every
     * row inside the {@code pixelBytes} of the pixel tensor.
     */
    public static void imageRows(String op, int[] offsets, int[] widths, int[] heights, int[] channels,
                                 long pixelBytes) {
        if (offsets[0] < 0) {
            throw new IllegalArgumentException(op + ": offsets[0] = " + offsets[0] + " is negative");
        }
        for (int i = 0; i < widths.length; i++) {
            if (widths[i] <= 0 || heights[i] <= 0) {
                throw new IllegalArgumentException(op + ": image " + i + " has size " + widths[i] + " x " + heights[i]
                        + " (width x height must be positive)");
            }
            if (channels[i] != 1 && channels[i] != 3) {
                throw new IllegalArgumentException(op + ": image " + i + " has " + channels[i]
                        + " channels (must be 1 or 3)");
            }
            long expected = (long) widths[i] * heights[i] * channels[i];
            long held = (long) offsets[i + 1] - offsets[i];
            if (held != expected) {
                throw new IllegalArgumentException(op + ": image " + i + " holds " + held + " bytes (offsets "
                        + offsets[i] + ".." + offsets[i + 1] + "), expected " + heights[i] + " x " + widths[i] + " x "
                        + channels[i] + " = " + expected);
            }
        }
        if (offsets[widths.length] > pixelBytes) {
            throw new IllegalArgumentException(op + ": offsets[" + widths.length + "] = " + offsets[widths.length]
                    + " exceeds the " + pixelBytes + " bytes of pixels");
        }
    }

    /**
     * The shapes of {@code patchify}: float32 {@code pixels [b, c, s, s]} with {@code patch} dividing {@code s}, and
     * float32 {@code out [b * (s / patch)^2, c * patch * patch]}. Returns {b, c, s}.
     */
    public static int[] patchify(String op, Tensor pixels, int patch, Tensor out) {
        dtype(op, "pixels", pixels, DType.FLOAT32);
        if (pixels.rank() != 4 || pixels.dim(2) != pixels.dim(3)) {
            throw new IllegalArgumentException(op + ": pixels must be float32 [batch, channels, size, size] (found "
                    + pixels + ")");
        }
        int b = pixels.dim(0);
        int c = pixels.dim(1);
        int s = pixels.dim(2);
        if (patch < 1 || s % patch != 0) {
            throw new IllegalArgumentException(op + ": patch " + patch + " does not divide the image size " + s);
        }
        int grid = s / patch;
        shape(op, "out", out, Math.multiplyExact(b, grid * grid), c * patch * patch);
        return new int[] {b, c, s};
    }
}
