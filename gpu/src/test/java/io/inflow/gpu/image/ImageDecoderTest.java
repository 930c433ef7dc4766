package io.inflow.gpu.image;

import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ImageEvent;
import io.inflow.schemas.RecordRejectedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ImageDecoderTest {

    private final ImageDecoder decoder = new ImageDecoder(ImageDecoderConfig.defaults());

    private static RecordRejectedException rejection(ThrowingDecode call) {
        try {
            call.run();
        } catch (RecordRejectedException e) {
            return e;
        }
        throw new AssertionError("expected a RecordRejectedException");
    }

    private interface ThrowingDecode {
        void run() throws RecordRejectedException;
    }

    @ParameterizedTest
    @ValueSource(strings = {"png", "bmp", "gif"})
    void losslessFormatsDecodeExactly(String format) throws Exception {
        // 7 x 5: odd sizes, so rows are not multiples of any block size
        byte[] bytes = TestImages.encode(TestImages.quadrants(7, 5), format);
        DecodedImage img = decoder.decode(bytes);
        assertThat(img.format().readerFormatName()).isEqualTo(format);
        assertThat(img.width()).isEqualTo(7);
        assertThat(img.height()).isEqualTo(5);
        assertThat(img.channels()).isEqualTo(3);
        for (int y = 0; y < 5; y++) {
            for (int x = 0; x < 7; x++) {
                int rgb = TestImages.quadrantRgb(x, y, 7, 5);
                assertThat(img.sample(x, y, 0)).as("R at %d,%d", x, y).isEqualTo(rgb >>> 16 & 0xFF);
                assertThat(img.sample(x, y, 1)).as("G at %d,%d", x, y).isEqualTo(rgb >>> 8 & 0xFF);
                assertThat(img.sample(x, y, 2)).as("B at %d,%d", x, y).isEqualTo(rgb & 0xFF);
            }
        }
    }

    @Test
    void jpegDecodesWithinCompressionError() throws Exception {
        BufferedImage src = new BufferedImage(32, 16, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 32; x++) {
                src.setRGB(x, y, 0x3C78B4);        // flat (60, 120, 180): JPEG keeps a flat image nearly exact
            }
        }
        DecodedImage img = decoder.decode(TestImages.encode(src, "jpeg"));
        assertThat(img.format()).isEqualTo(ImageFormat.JPEG);
        assertThat(img.width()).isEqualTo(32);
        assertThat(img.height()).isEqualTo(16);
        assertThat(img.channels()).isEqualTo(3);
        assertThat(img.sample(5, 5, 0)).isCloseTo(60, within(3));
        assertThat(img.sample(5, 5, 1)).isCloseTo(120, within(3));
        assertThat(img.sample(5, 5, 2)).isCloseTo(180, within(3));
    }

    @Test
    void grayscaleStaysOneChannelWithoutGammaConversion() throws Exception {
        // BufferedImage.getRGB on TYPE_BYTE_GRAY applies a linear-to-sRGB curve; the decoder must read raw samples
        for (String format : new String[] {"png", "bmp"}) {
            DecodedImage img = decoder.decode(TestImages.encode(TestImages.grayGradient(9, 4), format));
            assertThat(img.channels()).as(format).isEqualTo(1);
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 9; x++) {
                    assertThat(img.sample(x, y, 0)).as("%s %d,%d", format, x, y).isEqualTo((x * 7 + y * 13) % 256);
                }
            }
        }
        DecodedImage jpeg = decoder.decode(TestImages.encode(TestImages.grayGradient(16, 16), "jpeg"));
        assertThat(jpeg.channels()).isEqualTo(1);
    }

    @Test
    void alphaIsDropped() throws Exception {
        BufferedImage argb = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x80102030);
        argb.setRGB(1, 0, 0x00FFFFFF);
        DecodedImage img = decoder.decode(TestImages.encode(argb, "png"));
        assertThat(img.channels()).isEqualTo(3);
        assertThat(new int[] {img.sample(0, 0, 0), img.sample(0, 0, 1), img.sample(0, 0, 2)}).containsExactly(0x10, 0x20, 0x30);
        assertThat(new int[] {img.sample(1, 0, 0), img.sample(1, 0, 1), img.sample(1, 0, 2)}).containsExactly(255, 255, 255);
    }

    @Test
    void headerDeclaringHugeSizeIsRejectedBeforeDecoding() {
        // 100000 x 100000 gray would be 10 GB of pixels; the file is a few hundred bytes
        byte[] bomb = TestImages.grayPng(100_000, 100_000, 10);
        assertThat(bomb.length).isLessThan(2000);
        long t0 = System.nanoTime();
        RecordRejectedException e = rejection(() -> decoder.decode(bomb));
        assertThat(System.nanoTime() - t0).as("rejected from the header, no decoding").isLessThan(2_000_000_000L);
        assertThat(e.kind()).isEqualTo(ErrorKind.IMAGE_TOO_LARGE);
        assertThat(e.getMessage()).contains("PNG header declares 100000 x 100000").contains("over the limit 16384");
    }

    @Test
    void realDecompressionBombIsRejectedByPixelCount() {
        // a consistent 5000 x 5000 PNG of zeros: 25 M pixels in about 25 KB, over the default 16.7 M pixel limit
        byte[] bomb = TestImages.grayPng(5000, 5000, 5000);
        assertThat(bomb.length).isLessThan(100_000);
        RecordRejectedException e = rejection(() -> decoder.decode(bomb));
        assertThat(e.kind()).isEqualTo(ErrorKind.IMAGE_TOO_LARGE);
        assertThat(e.getMessage()).contains("5000 x 5000 = 25000000 pixels, limit is 16777216");
        // and with a higher limit the same file decodes
        ImageDecoder big = new ImageDecoder(ImageDecoderConfig.builder().maxPixels(25_000_000).build());
        try {
            DecodedImage img = big.decode(TestImages.grayPng(3000, 3000, 3000));
            assertThat(img.width()).isEqualTo(3000);
        } catch (RecordRejectedException ex) {
            throw new AssertionError(ex);
        }
    }

    @Test
    void jpegAndBmpHeadersAreCheckedToo() {
        byte[] jpeg = TestImages.encode(TestImages.quadrants(8, 8), "jpeg");
        for (int i = 2; i + 8 < jpeg.length; i++) {
            if ((jpeg[i] & 0xFF) == 0xFF && (jpeg[i + 1] & 0xFF) == 0xC0) {   // SOF0: length, precision, height, width
                jpeg[i + 5] = (byte) 0xFD;
                jpeg[i + 6] = (byte) 0xE8;
                jpeg[i + 7] = (byte) 0xFD;
                jpeg[i + 8] = (byte) 0xE8;
                break;
            }
        }
        RecordRejectedException je = rejection(() -> decoder.decode(jpeg));
        assertThat(je.kind()).isEqualTo(ErrorKind.IMAGE_TOO_LARGE);
        assertThat(je.getMessage()).contains("JPEG header declares 65000 x 65000");

        byte[] bmp = TestImages.encode(TestImages.quadrants(8, 8), "bmp");
        ByteBuffer.wrap(bmp).order(ByteOrder.LITTLE_ENDIAN).putInt(18, 5000).putInt(22, 5000)
                .putInt(34, 5000 * 5000 * 3);                     // biSizeImage consistent with the size
        RecordRejectedException be = rejection(() -> decoder.decode(bmp));
        assertThat(be.kind()).as(be.getMessage()).isEqualTo(ErrorKind.IMAGE_TOO_LARGE);
        assertThat(be.getMessage()).contains("BMP header declares 5000 x 5000");
    }

    @Test
    void sideAndByteLimits() {
        ImageDecoder strict = new ImageDecoder(ImageDecoderConfig.builder().maxSide(6).maxBytes(4096).build());
        RecordRejectedException side = rejection(() -> strict.decode(TestImages.encode(TestImages.quadrants(7, 5), "png")));
        assertThat(side.kind()).isEqualTo(ErrorKind.IMAGE_TOO_LARGE);
        assertThat(side.getMessage()).contains("7 x 5").contains("limit 6");
        RecordRejectedException bytes = rejection(() -> strict.decode(new byte[5000]));
        assertThat(bytes.kind()).isEqualTo(ErrorKind.IMAGE_TOO_LARGE);
        assertThat(bytes.getMessage()).isEqualTo("image is 5000 bytes, limit is 4096");
    }

    @ParameterizedTest
    @ValueSource(strings = {"png", "jpeg", "bmp", "gif"})
    void truncatedFilesAreCorrupt(String format) {
        BufferedImage src = "jpeg".equals(format) ? noise(64, 64) : TestImages.quadrants(64, 64);
        byte[] whole = TestImages.encode(src, format);
        for (int keep : new int[] {whole.length / 2, whole.length * 3 / 4}) {
            byte[] cut = TestImages.truncate(whole, keep);
            RecordRejectedException e = rejection(() -> decoder.decode(cut));
            assertThat(e.kind()).as("%s cut to %d of %d bytes: %s", format, keep, whole.length, e.getMessage())
                    .isEqualTo(ErrorKind.IMAGE_CORRUPT);
            assertThat(e.getMessage()).contains(format.toUpperCase()).contains("corrupt or truncated");
        }
        // cut inside the header
        byte[] header = TestImages.truncate(whole, 12);
        assertThat(rejection(() -> decoder.decode(header)).kind()).isEqualTo(ErrorKind.IMAGE_CORRUPT);
    }

    @Test
    void corruptPixelDataIsCorrupt() {
        byte[] png = TestImages.encode(noise(32, 32), "png");
        int idat = indexOf(png, "IDAT".getBytes());
        for (int i = idat + 8; i < idat + 40; i++) {
            png[i] = (byte) 0xA5;                                    // garbage in the zlib stream
        }
        RecordRejectedException e = rejection(() -> decoder.decode(png));
        assertThat(e.kind()).isEqualTo(ErrorKind.IMAGE_CORRUPT);
        assertThat(e.getMessage()).startsWith("PNG image is corrupt or truncated");
    }

    @Test
    void unsupportedFormatsNameWhatTheyAre() {
        byte[] tiff = TestImages.encode(TestImages.quadrants(4, 4), "tiff");   // the JDK can write TIFF; we refuse it
        RecordRejectedException t = rejection(() -> decoder.decode(tiff));
        assertThat(t.kind()).isEqualTo(ErrorKind.IMAGE_UNSUPPORTED);
        assertThat(t.getMessage()).contains("TIFF").contains("supported: PNG, JPEG, BMP, GIF");

        byte[] webp = {'R', 'I', 'F', 'F', 0x1A, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', ' ', 0, 0, 0, 0};
        RecordRejectedException w = rejection(() -> decoder.decode(webp));
        assertThat(w.kind()).isEqualTo(ErrorKind.IMAGE_UNSUPPORTED);
        assertThat(w.getMessage()).contains("WebP").contains("52 49 46 46");

        byte[] random = new byte[256];
        new Random(7).nextBytes(random);
        random[0] = 0x01;                                            // not any signature
        RecordRejectedException r = rejection(() -> decoder.decode(random));
        assertThat(r.kind()).isEqualTo(ErrorKind.IMAGE_UNSUPPORTED);
        assertThat(r.getMessage()).contains("unknown");

        assertThat(rejection(() -> decoder.decode(new byte[0])).kind()).isEqualTo(ErrorKind.IMAGE_CORRUPT);
        // a GIF-like signature that is not GIF87a/GIF89a
        assertThat(rejection(() -> decoder.decode("GIF8xa-not-a-gif".getBytes())).kind())
                .isEqualTo(ErrorKind.IMAGE_UNSUPPORTED);
    }

    @Test
    void decodesInlineEventsAndRefusesFileUrisWithoutARoot() throws Exception {
        byte[] png = TestImages.encode(TestImages.quadrants(3, 3), "png");
        ImageEvent inline = new ImageEvent("img-1", Base64.getEncoder().encodeToString(png), null, "image/png", null, Map.of());
        assertThat(decoder.decode(inline).width()).isEqualTo(3);
        ImageEvent file = new ImageEvent("img-2", null, "file:/data/x.png", null, null, Map.of());
        RecordRejectedException e = rejection(() -> decoder.decode(file));
        assertThat(e.kind()).isEqualTo(ErrorKind.IMAGE_UNREADABLE);
        assertThat(e.getMessage()).contains("no image root is configured");
    }

    private static BufferedImage noise(int w, int h) {
        Random rnd = new Random(42);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rnd.nextInt(0x1000000));
            }
        }
        return img;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
