package io.inflow.operators.retrieval;

import io.inflow.gpu.image.ImageDecoder;
import io.inflow.gpu.image.ImageDecoderConfig;
import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.image.AsyncImageDecodeFunction;
import io.inflow.operators.image.DecodedImageEvent;
import io.inflow.schemas.CorpusRecord;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ImageEvent;
import io.inflow.schemas.Limits;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.RecordCodec;
import io.inflow.schemas.SourceRef;
import io.inflow.schemas.SourcedImage;
import io.inflow.schemas.SourcedText;

import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.util.OutputTag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Image documents of the corpus: decoded into image upserts (the same image event the image branch decodes), split
 * to the image index, their deletes and modality changes reaching both indexes, and the indexes ending as the
 * corpus's last record of each id says whatever order the embedded upserts and the deletes arrive in.
 */
@Timeout(60)
class CorpusImageRoutingTest {

    private static final RetrievalSettings TEXT = new RetrievalSettings(8, 3, Metric.COSINE, Storage.FLOAT32, 16, 4);
    private static final RetrievalSettings IMAGE = new RetrievalSettings(4, 3, Metric.COSINE, Storage.FLOAT32, 16, 4);

    private static String png() throws Exception {
        BufferedImage img = new BufferedImage(4, 3, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSample(1, 1, 0, 200);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }

    private static RawRecord corpus(long offset, String key, byte[] value) {
        return new RawRecord("corpus", 0, offset, 1, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value);
    }

    private static RawRecord corpus(long offset, CorpusRecord r) {
        return corpus(offset, r.docId(), RecordCodec.encode(r));
    }

    private static <T> List<T> side(OneInputStreamOperatorTestHarness<?, ?> h, OutputTag<T> tag) {
        List<T> out = new ArrayList<>();
        var records = h.getSideOutput(tag);
        if (records != null) {
            for (StreamRecord<T> r : records) {
                out.add(r.getValue());
            }
        }
        return out;
    }

    private static List<CorpusChange> decode(Limits limits, List<RawRecord> raws, List<DeadLetterRecord> dead)
            throws Exception {
        try (OneInputStreamOperatorTestHarness<RawRecord, CorpusChange> h = new OneInputStreamOperatorTestHarness<>(
                new ProcessOperator<>(new DecodeCorpusFunction(limits)))) {
            h.open();
            for (RawRecord r : raws) {
                h.processElement(new StreamRecord<>(r));
            }
            dead.addAll(side(h, DeadLetters.TAG));
            return h.extractOutputValues();
        }
    }

    /** What a split sends where. */
    record Split(List<SourcedText> texts, List<DocUpdate> textDeletes, List<SourcedImage> images,
                 List<DocUpdate> imageDeletes, List<DeadLetterRecord> dead) {
    }

    private static Split split(boolean images, List<CorpusChange> changes) throws Exception {
        try (OneInputStreamOperatorTestHarness<CorpusChange, SourcedText> h = new OneInputStreamOperatorTestHarness<>(
                new ProcessOperator<>(new SplitCorpus(images)))) {
            h.open();
            for (CorpusChange c : changes) {
                h.processElement(new StreamRecord<>(c));
            }
            return new Split(h.extractOutputValues(), side(h, SplitCorpus.DELETES), side(h, SplitCorpus.IMAGE_UPSERTS),
                    side(h, SplitCorpus.IMAGE_DELETES), side(h, DeadLetters.TAG));
        }
    }

    @Test
    void imageDocumentsDecodeToImageUpsertsOfTheImageBranch() throws Exception {
        String png = png();
        CorpusRecord img = CorpusRecord.imageUpsert("img-1", png, null, "image/png", Map.of("k", "v"), 7L);
        List<DeadLetterRecord> dead = new ArrayList<>();
        List<CorpusChange> changes = decode(Limits.defaults(), List.of(
                corpus(0, img),
                corpus(1, new CorpusRecord("doc-1", CorpusRecord.Op.UPSERT, "a text", Map.of(), null)),
                corpus(2, "img-1", null),                                       // a tombstone
                corpus(3, CorpusRecord.imageUpsert("img-2", null, "file:/data/x.png", null, Map.of(), null))),
                dead);
        assertThat(dead).isEmpty();
        assertThat(changes).hasSize(4);
        CorpusChange first = changes.get(0);
        assertThat(first.upsert()).isNull();
        assertThat(first.delete()).isNull();
        assertThat(first.image().event()).isEqualTo(new ImageEvent("img-1", png, null, "image/png", 7L,
                Map.of("k", "v")));
        assertThat(first.image().raw().offset()).isEqualTo(0);
        assertThat(first.docId()).isEqualTo("img-1");
        assertThat(changes.get(1).upsert().event().text()).isEqualTo("a text");
        assertThat(changes.get(2).delete().docId()).isEqualTo("img-1");
        assertThat(changes.get(3).image().event().imageUri()).isEqualTo("file:/data/x.png");

        // the pixels decode as an image event's do (same function), the document id as the event id
        DecodedImageEvent decoded = AsyncImageDecodeFunction.decode(new ImageDecoder(ImageDecoderConfig.defaults()),
                first.image());
        assertThat(decoded.isRejected()).isFalse();
        assertThat(decoded.id()).isEqualTo("img-1");
        assertThat(decoded.raw()).isSameAs(first.image().raw());
    }

    @Test
    void badImageDocumentsAreDeadLetteredWithTheImageErrorKinds() throws Exception {
        List<DeadLetterRecord> dead = new ArrayList<>();
        String big = Base64.getEncoder().encodeToString(new byte[2000]);
        RawRecord tooBig = corpus(0, "big", ("{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"big\",\"op\":\"upsert\","
                + "\"image_base64\":\"" + big + "\"}").getBytes(StandardCharsets.UTF_8));
        RawRecord both = corpus(1, "both", ("{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"both\",\"op\":\"upsert\","
                + "\"text\":\"t\",\"image_uri\":\"file:/a.png\"}").getBytes(StandardCharsets.UTF_8));
        RawRecord corrupt = corpus(2, CorpusRecord.imageUpsert("cut", png().substring(0, 40), null, null, Map.of(),
                null));
        List<CorpusChange> changes = decode(new Limits(1 << 20, 1000, 128, 64, 1000), List.of(tooBig, both, corrupt),
                dead);
        assertThat(dead).extracting(DeadLetterRecord::kind).containsExactly(ErrorKind.INVALID_FIELD,
                ErrorKind.INVALID_FIELD);
        assertThat(dead.get(0).message()).contains("inflow.schemas.max-image-bytes");
        assertThat(dead.get(0).value()).isEqualTo(tooBig.value());
        assertThat(changes).hasSize(1);

        // undecodable bytes pass the envelope and are rejected by the pixel decoder, with the corpus record
        DecodedImageEvent rejected = AsyncImageDecodeFunction.decode(new ImageDecoder(ImageDecoderConfig.defaults()),
                changes.get(0).image());
        assertThat(rejected.kind()).isIn(ErrorKind.IMAGE_CORRUPT, ErrorKind.IMAGE_UNSUPPORTED);
        assertThat(rejected.raw().offset()).isEqualTo(corrupt.offset());
        assertThat(rejected.raw().value()).isEqualTo(corrupt.value());
    }

    @Test
    void eachModalityGoesToItsIndexAndDeletesToBoth() throws Exception {
        RawRecord textRaw = corpus(0, new CorpusRecord("d", CorpusRecord.Op.UPSERT, "t", Map.of(), null));
        RawRecord imageRaw = corpus(1, CorpusRecord.imageUpsert("d", "AAAA", null, null, Map.of(), null));
        RawRecord deleteRaw = corpus(2, "d", null);
        List<CorpusChange> changes = decode(Limits.defaults(), List.of(textRaw, imageRaw, deleteRaw),
                new ArrayList<>());

        Split on = split(true, changes);
        assertThat(on.texts()).extracting(SourcedText::raw).containsExactly(textRaw);
        assertThat(on.images()).extracting(SourcedImage::raw).containsExactly(imageRaw);
        // the image upsert and the delete remove the id from the text index
        assertThat(on.textDeletes()).extracting(DocUpdate::raw).containsExactly(imageRaw, deleteRaw);
        // the text upsert and the delete remove it from the image index
        assertThat(on.imageDeletes()).extracting(DocUpdate::raw).containsExactly(textRaw, deleteRaw);
        assertThat(on.textDeletes()).allMatch(DocUpdate::isDelete).extracting(DocUpdate::docId).containsOnly("d");
        assertThat(on.imageDeletes()).allMatch(DocUpdate::isDelete).extracting(DocUpdate::docId).containsOnly("d");
        assertThat(on.dead()).isEmpty();

        // without an image index an image document is dead-lettered, and still removes the id from the text index
        Split off = split(false, changes);
        assertThat(off.texts()).hasSize(1);
        assertThat(off.images()).isEmpty();
        assertThat(off.imageDeletes()).isEmpty();
        assertThat(off.textDeletes()).extracting(DocUpdate::raw).containsExactly(imageRaw, deleteRaw);
        assertThat(off.dead()).singleElement().satisfies(d -> {
            assertThat(d.kind()).isEqualTo(ErrorKind.IMAGE_UNSUPPORTED);
            assertThat(d.message()).contains("inflow.image.enabled");
        });
    }

    private static QueryRow query(float[] v, long offset) {
        RawRecord r = new RawRecord("events.image", 0, offset, 1, null, new byte[] {1});
        EnrichedEvent e = new EnrichedEvent("q" + offset, "image", new SourceRef(r.topic(), r.partition(), r.offset(),
                r.timestamp()), new ModelRef("m", "1"), null, false, null, null, null, List.of(), Map.of(), 1);
        return new QueryRow(v, null, e, r);
    }

    private static RetrievalAnswer ask(ShardHarness shard, float[] v, long offset) throws Exception {
        int before = shard.hits().size();
        QueryRow q = query(v, offset);
        shard.query(q);
        shard.flush();
        List<ShardHits> hits = shard.hits();
        assertThat(hits).hasSize(before + 1);
        return MergeShardHits.merge(List.of(hits.get(before)), 3);
    }

    @Test
    void aDocumentThatChangedModalityEndsInTheIndexOfItsLastRecordOnly() throws Exception {
        RawRecord textRaw = corpus(10, new CorpusRecord("d", CorpusRecord.Op.UPSERT, "t", Map.of(), null));
        RawRecord imageRaw = corpus(11, CorpusRecord.imageUpsert("d", "AAAA", null, null, Map.of(), null));
        Split s = split(true, decode(Limits.defaults(), List.of(textRaw, imageRaw), new ArrayList<>()));
        float[] textVec = {1, 0, 0, 0, 0, 0, 0, 0};
        float[] imageVec = {0, 1, 0, 0};
        try (ShardHarness text = ShardHarness.open(TEXT, 0, 1, null);
             ShardHarness image = ShardHarness.open(IMAGE, 0, 1, null)) {
            // worst order for the text index: the image upsert's delete overtakes the text upsert being embedded
            text.corpus(s.textDeletes().get(0));
            text.corpus(DocUpdate.upsert("d", textVec, null, s.texts().get(0).raw()));
            // the image index: the text upsert's delete of an id it does not hold only records the offset
            image.corpus(s.imageDeletes().get(0));
            RetrievalAnswer before = ask(image, imageVec, 1);
            assertThat(before.docIds()).isEmpty();
            assertThat(before.shards().get(0).lastOffsets()).containsEntry(0, 10L);
            image.corpus(DocUpdate.upsert("d", imageVec, null, s.images().get(0).raw()));

            RetrievalAnswer textAnswer = ask(text, textVec, 2);
            assertThat(textAnswer.docIds()).isEmpty();
            assertThat(textAnswer.documents()).isZero();
            assertThat(textAnswer.shards().get(0).lastOffsets()).containsEntry(0, 11L);
            RetrievalAnswer imageAnswer = ask(image, imageVec, 3);
            assertThat(imageAnswer.docIds()).containsExactly("d");
            assertThat(imageAnswer.shards().get(0).lastOffsets()).containsEntry(0, 11L);

            // the reverse order in the image index: a stale delete (the text upsert's) after the newer upsert
            image.corpus(s.imageDeletes().get(0));
            assertThat(ask(image, imageVec, 4).docIds()).containsExactly("d");
            assertThat(text.deadLetters()).isEmpty();
            assertThat(image.deadLetters()).isEmpty();
        }
    }
}
