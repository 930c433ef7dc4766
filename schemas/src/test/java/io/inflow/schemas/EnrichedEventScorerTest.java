package io.inflow.schemas;

import static io.inflow.schemas.Samples.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The optional {@code scorer} of {@link EnrichedEvent}: its wire form (after the topic, before the attributes), that
 * events without it encode exactly as before, and the rules both ways (a scorer needs scores; a known precision).
 */
class EnrichedEventScorerTest {

    private static final String SCORER_WIRE = "\"scorer\":{\"name\":\"spam-ham-minilm\",\"version\":\"1\","
            + "\"precision\":\"int8\"}";
    private static final String SCORES_WIRE = "\"scores\":[{\"label\":\"spam\",\"score\":0.96875},"
            + "{\"label\":\"ham\",\"score\":0.03125}]";

    private static String wire(EnrichedEvent e) {
        return new String(RecordCodec.encode(e), StandardCharsets.UTF_8);
    }

    @Test
    void scoredEventWireFormAndRoundTrip() throws Exception {
        String plain = wire(Samples.enrichedText());
        assertThat(plain).doesNotContain("scorer").doesNotContain("scores");
        assertThat(wire(Samples.enrichedScored())).isEqualTo(plain.replace(",\"attributes\":",
                "," + SCORES_WIRE + "," + SCORER_WIRE + ",\"attributes\":"));
        EnrichedEvent back = RecordCodec.decodeEnriched(utf8(wire(Samples.enrichedScored())));
        assertThat(back).isEqualTo(Samples.enrichedScored());
        assertThat(back.scorer()).isEqualTo(new ScorerRef("spam-ham-minilm", "1", "int8"));
        // the topic and the retrieval results survive withScores and the other way round
        EnrichedEvent all = Samples.enrichedWithTopic().withScores(Samples.enrichedScored().scores(),
                Samples.enrichedScored().scorer());
        assertThat(all.topic()).isEqualTo(Samples.enrichedWithTopic().topic());
        assertThat(all.withTopic(null).scorer()).isEqualTo(all.scorer());
        assertThat(RecordCodec.decodeEnriched(utf8(wire(all)))).isEqualTo(all);
    }

    @Test
    void scorerIsPartOfEquality() {
        EnrichedEvent a = Samples.enrichedScored();
        EnrichedEvent b = a.withScores(a.scores(), new ScorerRef("spam-ham-minilm", "1", ScorerRef.FLOAT32));
        assertThat(a).isNotEqualTo(b);
        assertThat(a.hashCode()).isNotEqualTo(b.hashCode());
        assertThat(a.toString()).contains("precision=int8");
    }

    @Test
    void constructorRules() {
        assertThatThrownBy(() -> Samples.enrichedText().withScores(List.of(), new ScorerRef("s", "1", "int8")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scores is empty");
        assertThatThrownBy(() -> new ScorerRef("s", "1", "fp16"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("float32, int8, mixed");
        assertThatThrownBy(() -> new ScorerRef("", "1", "int8")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readerRules() {
        String scored = wire(Samples.enrichedScored());
        assertThatThrownBy(() -> RecordCodec.decodeEnriched(utf8(scored.replace(SCORES_WIRE + ",", ""))))
                .isInstanceOf(RecordRejectedException.class).hasMessageContaining("'scores' is empty");
        assertThatThrownBy(() -> RecordCodec.decodeEnriched(utf8(scored.replace("\"int8\"", "\"fp16\""))))
                .isInstanceOf(RecordRejectedException.class).hasMessageContaining("scorer.precision");
        assertThatThrownBy(() -> RecordCodec.decodeEnriched(utf8(scored.replace("\"version\":\"1\",\"precision\"",
                "\"precision\"")))).isInstanceOf(RecordRejectedException.class).hasMessageContaining("version");
    }
}
