package io.inflow.gpu.testing;

import io.inflow.gpu.image.DecodedImage;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Fashion-MNIST in IDX format: the 1,000-image t10k sample committed under
 * {@code src/test/resources/fashion-mnist/} and, when Debian's {@code dataset-fashion-mnist} is installed, the full
 * splits under {@link #DEBIAN_DIR}.
 *
 * <p>{@code FashionMnist t10k = FashionMnist.sample(); DecodedImage img = t10k.image(0); int label = t10k.label(0);}
 */
public final class FashionMnist {

    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final String SAMPLE = "fashion-mnist/t10k-first1000-";

    private final byte[][] images;
    private final int[] labels;
    private final int rows;
    private final int cols;

    private FashionMnist(byte[][] images, int[] labels, int rows, int cols) {
        this.images = images;
        this.labels = labels;
        this.rows = rows;
        this.cols = cols;
    }

    /** The committed sample: the first 1,000 t10k images and labels. */
    public static FashionMnist sample() throws IOException {
        try (InputStream img = resource(SAMPLE + "images-idx3-ubyte");
             InputStream lab = resource(SAMPLE + "labels-idx1-ubyte")) {
            return read(img, lab);
        }
    }

    /** The model's predictions on the sample, as written by the training script. */
    public static int[] samplePredictions() throws IOException {
        try (InputStream in = resource(SAMPLE + "vit-predictions-idx1-ubyte")) {
            return readLabels(new DataInputStream(in));
        }
    }

    /** A full split ({@code "t10k"} or {@code "train"}) from Debian's package. */
    public static FashionMnist debian(String split) throws IOException {
        try (InputStream img = new GZIPInputStream(Files.newInputStream(DEBIAN_DIR.resolve(split + "-images-idx3-ubyte.gz")));
             InputStream lab = new GZIPInputStream(Files.newInputStream(DEBIAN_DIR.resolve(split + "-labels-idx1-ubyte.gz")))) {
            return read(img, lab);
        }
    }

    public static boolean debianInstalled() {
        return Files.isRegularFile(DEBIAN_DIR.resolve("t10k-images-idx3-ubyte.gz"));
    }

    public int size() {
        return labels.length;
    }

    public int label(int i) {
        return labels[i];
    }

    /** Image {@code i} as 1-channel raw pixels (no file format). */
    public DecodedImage image(int i) {
        return new DecodedImage(cols, rows, 1, images[i], null);
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = FashionMnist.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IOException("test resource not found: " + name);
        }
        return in;
    }

    private static FashionMnist read(InputStream imageStream, InputStream labelStream) throws IOException {
        DataInputStream img = new DataInputStream(imageStream);
        int magic = img.readInt();
        if (magic != 0x803) {
            throw new IOException("not an IDX3 ubyte file (magic " + Integer.toHexString(magic) + ")");
        }
        int n = img.readInt();
        int rows = img.readInt();
        int cols = img.readInt();
        byte[][] images = new byte[n][rows * cols];
        for (int i = 0; i < n; i++) {
            img.readFully(images[i]);
        }
        int[] labels = readLabels(new DataInputStream(labelStream));
        if (labels.length != n) {
            throw new IOException(n + " images but " + labels.length + " labels");
        }
        return new FashionMnist(images, labels, rows, cols);
    }

    private static int[] readLabels(DataInputStream in) throws IOException {
        int magic = in.readInt();
        if (magic != 0x801) {
            throw new IOException("not an IDX1 ubyte file (magic " + Integer.toHexString(magic) + ")");
        }
        int n = in.readInt();
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = in.readUnsignedByte();
        }
        return labels;
    }
}
