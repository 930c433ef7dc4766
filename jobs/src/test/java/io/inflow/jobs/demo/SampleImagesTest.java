package io.inflow.jobs.demo;

import io.inflow.gpu.image.DecodedImage;
import io.inflow.gpu.image.ImageDecoder;
import io.inflow.gpu.image.ImageDecoderConfig;
import io.inflow.schemas.ImageEvent;
import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;
import io.inflow.schemas.RecordRejectedException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bundled image sample: what the demo promises (212 enriched images, 12 dead letters with known kinds) follows
 * from these records, checked here with the same decoders the pipeline runs.
 */
class SampleImagesTest {

    private static final int INLINE = 200;
    private static final int FILES = 12;
    private static final int BROKEN = 12;

    @TempDir
    Path root;

    @Test
    void everyGoodImageDecodesToA28x28GrayImageAndEveryBrokenOneGetsItsDocumentedKind() throws Exception {
        SampleImages sample = SampleImages.load();
        List<SampleData.Record> records = sample.records(root);
        assertThat(sample.inlineCount()).isEqualTo(INLINE);
        assertThat(sample.fileCount()).isEqualTo(FILES);
        assertThat(sample.brokenCount()).isEqualTo(BROKEN);
        assertThat(records).hasSize(INLINE + FILES + BROKEN);
        assertThat(records.stream().map(SampleData.Record::key).distinct()).hasSize(records.size());
        try (var files = Files.list(root)) {
            assertThat(files.count()).as("PNG files copied under the root").isEqualTo(FILES);
        }

        InputDecoder envelopes = new InputDecoder(Limits.defaults());
        ImageDecoder pixels = new ImageDecoder(ImageDecoderConfig.builder().imageRoot(root).build());
        Map<String, String> kinds = new HashMap<>();
        int fileRefs = 0;
        for (SampleData.Record r : records) {
            try {
                ImageEvent event = envelopes.decodeImage(r.value());
                assertThat(event.id()).isEqualTo(r.key());
                fileRefs += event.imageUri() != null ? 1 : 0;
                DecodedImage img = pixels.decode(event);
                assertThat(r.malformed()).as("%s decodes", r.key()).isFalse();
                assertThat(img.width()).isEqualTo(28);
                assertThat(img.height()).isEqualTo(28);
                assertThat(img.channels()).isEqualTo(1);
                assertThat(event.attributes()).containsKeys("label", "t10k_index");
            } catch (RecordRejectedException e) {
                assertThat(r.malformed()).as("%s is rejected: %s", r.key(), e.getMessage()).isTrue();
                kinds.put(r.key(), e.kind().wireName());
            }
        }
        assertThat(kinds).isEqualTo(sample.expectedKinds());
        assertThat(fileRefs).as("good file: references plus the 3 broken ones").isEqualTo(FILES + 3);
    }

    @Test
    void brokenImagesAreSpreadAmongTheGoodOnesInAStableOrder() throws Exception {
        SampleImages sample = SampleImages.load();
        List<SampleData.Record> records = sample.records(root);
        assertThat(records.get(0).malformed()).isFalse();
        assertThat(records.get(records.size() - 1).malformed()).isFalse();
        assertThat(sample.records(root).stream().map(SampleData.Record::key).toList())
                .isEqualTo(records.stream().map(SampleData.Record::key).toList());
    }
}
