package io.inflow.gpu.image;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/** Small images generated in the tests, and hand-made PNG files (bombs, patched headers). */
final class TestImages {

    private TestImages() {
    }

    /** A w x h RGB image with 4 flat colours in quadrants (exact in PNG, BMP and a 4-colour GIF palette). */
    static BufferedImage quadrants(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, quadrantRgb(x, y, w, h));
            }
        }
        return img;
    }

    static int quadrantRgb(int x, int y, int w, int h) {
        boolean right = x >= w / 2;
        boolean bottom = y >= h / 2;
        if (!right && !bottom) {
            return 0xFF0000;
        }
        if (right && !bottom) {
            return 0x00FF00;
        }
        if (!right) {
            return 0x0000FF;
        }
        return 0xFFFFFF;
    }

    /** A gray gradient: sample (x, y) = (x * 7 + y * 13) % 256. */
    static BufferedImage grayGradient(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, (x * 7 + y * 13) % 256);
            }
        }
        return img;
    }

    static byte[] encode(BufferedImage img, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalStateException("no ImageIO writer for " + format + " and " + img.getType());
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A valid PNG with the given IHDR size and an 8-bit gray IDAT of {@code dataRows} rows of {@code width} zeros. */
    static byte[] grayPng(int width, int height, int dataRows) {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(png, "IHDR", ihdr.array());
        Deflater deflater = new Deflater(9);
        byte[] row = new byte[width + 1];              // filter byte 0 + zeros
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        for (int r = 0; r < dataRows; r++) {
            deflater.setInput(row);
            while (!deflater.needsInput()) {
                int n = deflater.deflate(buf);
                idat.write(buf, 0, n);
            }
        }
        deflater.finish();
        while (!deflater.finished()) {
            int n = deflater.deflate(buf);
            idat.write(buf, 0, n);
        }
        deflater.end();
        chunk(png, "IDAT", idat.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    static byte[] truncate(byte[] bytes, int keep) {
        byte[] out = new byte[keep];
        System.arraycopy(bytes, 0, out, 0, keep);
        return out;
    }
}
