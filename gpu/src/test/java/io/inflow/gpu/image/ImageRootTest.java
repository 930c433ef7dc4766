package io.inflow.gpu.image;

import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.RecordRejectedException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ImageRootTest {

    @TempDir
    Path tmp;
    private Path root;
    private Path outside;
    private ImageDecoder decoder;
    private byte[] png;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createDirectories(tmp.resolve("images"));
        outside = Files.createDirectories(tmp.resolve("secret"));
        png = TestImages.encode(TestImages.quadrants(4, 2), "png");
        Files.createDirectories(root.resolve("cats"));
        Files.write(root.resolve("cats/1.png"), png);
        Files.write(outside.resolve("s.png"), png);
        decoder = new ImageDecoder(ImageDecoderConfig.builder().imageRoot(root).build());
    }

    private RecordRejectedException rejection(String uri) {
        try {
            decoder.decodeUri(uri);
        } catch (RecordRejectedException e) {
            return e;
        }
        throw new AssertionError("expected a rejection of " + uri);
    }

    @Test
    void readsFilesUnderTheRoot() throws Exception {
        assertThat(decoder.decodeUri("file:" + root.resolve("cats/1.png")).width()).isEqualTo(4);
        assertThat(decoder.decodeUri("file://" + root.resolve("cats/1.png")).width()).isEqualTo(4);
        assertThat(decoder.decodeUri("file://localhost" + root.resolve("cats/1.png")).width()).isEqualTo(4);
        assertThat(decoder.decodeUri("file:cats/1.png").width()).as("relative to the root").isEqualTo(4);
        assertThat(decoder.decodeUri("file:" + root + "/cats/../cats/./1.png").width()).as("normalised inside").isEqualTo(4);
        Files.write(root.resolve("cats/a b.png"), png);
        assertThat(decoder.decodeUri("file:" + root + "/cats/a%20b.png").width()).as("percent-decoded").isEqualTo(4);
    }

    @Test
    void dotDotEscapesAreRejected() {
        for (String uri : new String[] {
                "file:" + root + "/../secret/s.png",
                "file:../secret/s.png",
                "file:cats/../../secret/s.png",
                "file:" + root + "/%2e%2e/secret/s.png",
                "file:" + outside.resolve("s.png"),
                "file:/etc/passwd"}) {
            RecordRejectedException e = rejection(uri);
            assertThat(e.kind()).as(uri).isEqualTo(ErrorKind.IMAGE_UNREADABLE);
            assertThat(e.getMessage()).as(uri).contains("outside the image root");
        }
    }

    @Test
    void symbolicLinksLeavingTheRootAreRejected() throws Exception {
        Files.createSymbolicLink(root.resolve("link.png"), outside.resolve("s.png"));
        Files.createSymbolicLink(root.resolve("outdir"), outside);
        Files.createSymbolicLink(root.resolve("inside.png"), root.resolve("cats/1.png"));
        for (String uri : new String[] {"file:link.png", "file:outdir/s.png", "file:" + root + "/outdir/s.png"}) {
            RecordRejectedException e = rejection(uri);
            assertThat(e.kind()).as(uri).isEqualTo(ErrorKind.IMAGE_UNREADABLE);
            assertThat(e.getMessage()).as(uri).contains("symbolic link").contains("outside the image root");
        }
        assertThat(decoder.decodeUri("file:inside.png").width()).as("a link within the root is fine").isEqualTo(4);
    }

    @Test
    void rootReachedThroughASymbolicLinkStillWorks() throws Exception {
        Path alias = Files.createSymbolicLink(tmp.resolve("alias"), root);
        ImageDecoder viaAlias = new ImageDecoder(ImageDecoderConfig.builder().imageRoot(alias).build());
        assertThat(viaAlias.decodeUri("file:" + alias + "/cats/1.png").width()).isEqualTo(4);
        assertThat(viaAlias.decodeUri("file:" + root + "/cats/1.png").width()).isEqualTo(4);
    }

    @Test
    void missingFilesDirectoriesAndBadUris() throws Exception {
        RecordRejectedException missing = rejection("file:cats/2.png");
        assertThat(missing.kind()).isEqualTo(ErrorKind.IMAGE_UNREADABLE);
        assertThat(missing.getMessage()).contains("no such file");
        RecordRejectedException dir = rejection("file:cats");
        assertThat(dir.kind()).isEqualTo(ErrorKind.IMAGE_UNREADABLE);
        assertThat(dir.getMessage()).contains("not a regular file");
        for (String uri : new String[] {"http://example.com/x.png", "file://otherhost/x.png", "file:x.png?a=1",
                "file:%zz", "file:"}) {
            assertThat(rejection(uri).kind()).as(uri).isEqualTo(ErrorKind.INVALID_FIELD);
        }
    }

    @Test
    void fileOverTheByteLimitIsNotRead() throws Exception {
        Files.write(root.resolve("big.png"), new byte[5000]);
        ImageDecoder small = new ImageDecoder(ImageDecoderConfig.builder().imageRoot(root).maxBytes(4096).build());
        try {
            small.decodeUri("file:big.png");
            throw new AssertionError("expected a rejection");
        } catch (RecordRejectedException e) {
            assertThat(e.kind()).isEqualTo(ErrorKind.IMAGE_TOO_LARGE);
            assertThat(e.getMessage()).contains("5000 bytes, limit is 4096");
        }
    }
}
