package io.inflow.gpu.quant;

import io.inflow.gpu.image.DecodedImage;
import io.inflow.gpu.image.ImageDecoder;
import io.inflow.gpu.image.ImageDecoderConfig;
import io.inflow.schemas.RecordRejectedException;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Calibration images for an image model: a directory of image files (PNG, JPEG, BMP, GIF; decoded by the pipeline's
 * own {@link ImageDecoder}, in file-name order) or an IDX image file ({@code *-images-idx3-ubyte}, optionally
 * gzipped, as Fashion-MNIST and MNIST ship). Bad input fails with what to change: an empty directory or file, a
 * text file (a text model's calibration given to an image model), an IDX label file, an image that does not decode.
 *
 * <pre>{@code
 * List<DecodedImage> images = CalibrationImages.read(Path.of("train-images-idx3-ubyte.gz"), 256);
 * List<DecodedImage> bundled = CalibrationImages.bundled(512);   // Fashion-MNIST train images 0..511
 * }</pre>
 */
public final class CalibrationImages {
    /** The bundled set: the first 512 Fashion-MNIST train images (MIT licence), IDX, gzipped. */
    public static final String BUNDLED = "calibration/fashion-mnist-train-first512-images-idx3-ubyte.gz";
    private static final int IDX_IMAGES = 0x803;
    private static final int IDX_LABELS = 0x801;

    private CalibrationImages() {
    }

    /** The first {@code max} bundled images. */
    public static List<DecodedImage> bundled(int max) throws IOException {
        try (InputStream in = CalibrationImages.class.getClassLoader().getResourceAsStream(BUNDLED)) {
            if (in == null) {
                throw new IOException("resource " + BUNDLED + " is missing from the classpath");
            }
            return idx(in.readAllBytes(), BUNDLED, max);
        }
    }

    /** The first {@code max} images of a directory or an IDX file. */
    public static List<DecodedImage> read(Path source, int max) throws IOException {
        if (Files.isDirectory(source)) {
            return directory(source, max);
        }
        if (!Files.isRegularFile(source)) {
            throw new IllegalArgumentException("calibration " + source + " does not exist: give a directory of"
                    + " images or an IDX image file");
        }
        return idx(Files.readAllBytes(source), source.toString(), max);
    }

    private static List<DecodedImage> directory(Path dir, int max) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("calibration directory " + dir + " holds no files: put the images to"
                    + " calibrate on there (PNG, JPEG, BMP or GIF)");
        }
        ImageDecoder decoder = new ImageDecoder(ImageDecoderConfig.defaults());
        List<DecodedImage> out = new ArrayList<>();
        for (Path f : files) {
            if (out.size() == max) {
                break;
            }
            byte[] bytes = Files.readAllBytes(f);
            String text = textKind(bytes);
            if (text != null) {
                throw new IllegalArgumentException("calibration file " + f + " is " + text + ", not an image: an image"
                        + " model calibrates on images (texts are for the text models, --model all-minilm-l6-v2)");
            }
            try {
                out.add(decoder.decode(bytes));
            } catch (RecordRejectedException e) {
                throw new IllegalArgumentException("calibration image " + f + " does not decode (" + e.getMessage()
                        + "): remove it or replace it", e);
            }
        }
        return out;
    }

    static List<DecodedImage> idx(byte[] bytes, String name, int max) throws IOException {
        if (bytes.length == 0) {
            throw new IllegalArgumentException("calibration file " + name + " is empty");
        }
        if (bytes.length > 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
                bytes = in.readAllBytes();
            }
        }
        String text = textKind(bytes);
        if (text != null) {
            throw new IllegalArgumentException("calibration file " + name + " is " + text + ", not images: an image"
                    + " model calibrates on a directory of images or an IDX image file (texts are for the text"
                    + " models, --model all-minilm-l6-v2)");
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        int magic = bytes.length >= 4 ? in.readInt() : 0;
        if (magic == IDX_LABELS) {
            throw new IllegalArgumentException("calibration file " + name + " holds IDX labels, not images: give the"
                    + " images file (*-images-idx3-ubyte)");
        }
        if (magic != IDX_IMAGES || bytes.length < 16) {
            throw new IllegalArgumentException("calibration file " + name + " is neither an IDX image file nor a"
                    + " directory: give a directory of PNG/JPEG/BMP/GIF images or an *-images-idx3-ubyte[.gz] file");
        }
        int n = in.readInt();
        int rows = in.readInt();
        int cols = in.readInt();
        if (n < 1 || rows < 1 || cols < 1 || (long) n * rows * cols > bytes.length - 16) {
            throw new IllegalArgumentException("calibration file " + name + " says " + n + " images of " + rows + " x "
                    + cols + " but holds " + (bytes.length - 16) + " pixel bytes (truncated?)");
        }
        int take = Math.min(n, max);
        List<DecodedImage> out = new ArrayList<>(take);
        for (int i = 0; i < take; i++) {
            byte[] px = new byte[rows * cols];
            in.readFully(px);
            out.add(new DecodedImage(cols, rows, 1, px, null));
        }
        return out;
    }

    /** What text this is ("a text file", "JSON Lines (text events?)"), or null when it does not look like text. */
    static String textKind(byte[] bytes) {
        int n = Math.min(bytes.length, 4096);
        if (n == 0) {
            return null;
        }
        for (int i = 0; i < n; i++) {
            int b = bytes[i] & 0xff;
            if (b < 0x09 || (b > 0x0d && b < 0x20 && b != 0x1b)) {
                return null;
            }
        }
        return bytes[0] == '{' ? "JSON (text events?)" : "a text file";
    }
}
