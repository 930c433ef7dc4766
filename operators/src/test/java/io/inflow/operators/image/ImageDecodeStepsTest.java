package io.inflow.operators.image;

import io.inflow.gpu.image.ImageDecoder;
import io.inflow.gpu.image.ImageDecoderConfig;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ImageEvent;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.SourcedImage;

import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Pixel decoding never throws on content, and a rejected image leaves as a dead letter with its original bytes. */
class ImageDecodeStepsTest {

    private static SourcedImage envelope(ImageEvent event, long offset) {
        byte[] value = ("{\"id\":\"" + event.id() + "\"}").getBytes(StandardCharsets.UTF_8);
        return new SourcedImage(event, new RawRecord("events.image", 0, offset, 3,
                event.id().getBytes(StandardCharsets.UTF_8), value));
    }

    private static String png() throws Exception {
        BufferedImage img = new BufferedImage(4, 3, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSample(1, 1, 0, 200);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }

    @Test
    void decodesGoodImagesAndTurnsEveryProblemIntoARejection() throws Exception {
        ImageDecoder decoder = new ImageDecoder(ImageDecoderConfig.defaults());   // no root: file: URIs refused
        DecodedImageEvent ok = AsyncImageDecodeFunction.decode(decoder,
                envelope(new ImageEvent("ok", png(), null, "image/png", null, Map.of("k", "v")), 1));
        assertThat(ok.isRejected()).isFalse();
        assertThat(ok.image().width()).isEqualTo(4);
        assertThat(ok.image().height()).isEqualTo(3);
        assertThat(ok.image().sample(1, 1, 0)).isEqualTo(200);
        assertThat(ok.attributes()).containsEntry("k", "v");

        SourcedImage byUri = envelope(new ImageEvent("uri", null, "file:/etc/passwd", null, null, Map.of()), 2);
        DecodedImageEvent unreadable = AsyncImageDecodeFunction.decode(decoder, byUri);
        assertThat(unreadable.kind()).isEqualTo(ErrorKind.IMAGE_UNREADABLE);
        assertThat(unreadable.reason()).contains("no image root is configured");
        assertThat(unreadable.raw()).isSameAs(byUri.raw());

        DecodedImageEvent corrupt = AsyncImageDecodeFunction.decode(decoder, envelope(new ImageEvent("cut",
                png().substring(0, 40), null, null, null, Map.of()), 3));
        assertThat(corrupt.kind()).isIn(ErrorKind.IMAGE_CORRUPT, ErrorKind.IMAGE_UNSUPPORTED);
    }

    @Test
    void rejectedImagesBecomeDeadLettersAndDecodedOnesGoOn() throws Exception {
        RawRecord raw = new RawRecord("events.image", 1, 5, 9, "k".getBytes(StandardCharsets.UTF_8),
                new byte[] {1, 2, 3});
        try (OneInputStreamOperatorTestHarness<DecodedImageEvent, DecodedImageEvent> h =
                     new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new RouteRejectedImages()))) {
            h.open();
            h.processElement(new StreamRecord<>(DecodedImageEvent.rejected(raw, ErrorKind.IMAGE_TOO_LARGE, "big")));
            DecodedImageEvent ok = AsyncImageDecodeFunction.decode(new ImageDecoder(ImageDecoderConfig.defaults()),
                    envelope(new ImageEvent("ok", png(), null, null, null, Map.of()), 6));
            h.processElement(new StreamRecord<>(ok));
            List<DecodedImageEvent> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            assertThat(out.get(0)).usingRecursiveComparison().isEqualTo(ok);   // the harness copies records
            List<DeadLetterRecord> dead = h.getSideOutput(DeadLetters.TAG).stream().map(StreamRecord::getValue)
                    .toList();
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).kind()).isEqualTo(ErrorKind.IMAGE_TOO_LARGE);
            assertThat(dead.get(0).stage()).isEqualTo(RouteRejectedImages.STAGE);
            assertThat(dead.get(0).value()).containsExactly(1, 2, 3);
            assertThat(dead.get(0).key()).isEqualTo(raw.key());
            assertThat(dead.get(0).source()).isEqualTo(raw.source());
        }
    }
}
