package io.inflow.operators.decode;

import io.inflow.schemas.RawRecord;
import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.Limits;
import io.inflow.schemas.SourceRef;
import io.inflow.schemas.SourcedText;

import io.prometheus.metrics.core.metrics.Counter;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The decode step under Flink's harness: good records go on, bad ones become dead letters, nothing is lost. */
class DecodeTextFunctionTest {

    private static final String TOPIC = "events.text";
    private static final int PARTITION = 3;
    private static final long TIMESTAMP = 1_732_300_000_000L;
    /** Virtual processing time of the harness; dead letters carry it as their failure time. */
    private static final long NOW_MS = 1_732_300_123_456L;

    private OneInputStreamOperatorTestHarness<RawRecord, SourcedText> harness;

    @BeforeEach
    void open() throws Exception {
        harness = ProcessFunctionTestHarnesses.forProcessFunction(new DecodeTextFunction(Limits.defaults()));
        harness.setProcessingTime(NOW_MS);
    }

    @AfterEach
    void close() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String textEvent(String id, String text) {
        return "{\"type\":\"text\",\"version\":1,\"id\":\"" + id + "\",\"text\":\"" + text
                + "\",\"lang\":\"en\",\"attributes\":{\"k\":\"v\"}}";
    }

    private static RawRecord raw(long offset, byte[] key, byte[] value) {
        return new RawRecord(TOPIC, PARTITION, offset, TIMESTAMP + offset, key, value);
    }

    private static List<DeadLetterRecord> deadLetters(OneInputStreamOperatorTestHarness<RawRecord, SourcedText> h) {
        Queue<StreamRecord<DeadLetterRecord>> side = h.getSideOutput(DeadLetters.TAG);
        List<DeadLetterRecord> out = new ArrayList<>();
        if (side != null) {
            side.forEach(r -> out.add(r.getValue()));
        }
        return out;
    }

    @Test
    void validTextEventComesOutWithItsKafkaCoordinates() throws Exception {
        RawRecord in = raw(42, utf8("msg-1"), utf8(textEvent("msg-1", "A man is eating food.")));

        harness.processElement(in, TIMESTAMP);

        List<SourcedText> out = harness.extractOutputValues();
        assertThat(out).hasSize(1);
        SourcedText st = out.get(0);
        assertThat(st.event().id()).isEqualTo("msg-1");
        assertThat(st.event().text()).isEqualTo("A man is eating food.");
        assertThat(st.event().lang()).isEqualTo("en");
        assertThat(st.event().attributes()).containsExactly(Map.entry("k", "v"));
        assertThat(st.source()).isEqualTo(new SourceRef(TOPIC, PARTITION, 42, TIMESTAMP + 42));
        assertThat(deadLetters(harness)).isEmpty();
    }

    @Test
    void goodAndBadRecordsInterleavedEachGoExactlyOnceToTheirOutput() throws Exception {
        harness.processElement(raw(0, null, utf8(textEvent("a", "first"))), TIMESTAMP);
        harness.processElement(raw(1, null, utf8("{not json")), TIMESTAMP);
        harness.processElement(raw(2, null, utf8(textEvent("b", "second"))), TIMESTAMP);
        harness.processElement(raw(3, null, null), TIMESTAMP);

        assertThat(harness.extractOutputValues()).extracting(st -> st.source().offset()).containsExactly(0L, 2L);
        assertThat(deadLetters(harness)).extracting(d -> d.source().offset()).containsExactly(1L, 3L);
    }

    static Stream<Arguments> malformedInputs() {
        byte[] invalidUtf8 = utf8("{\"type\":\"text\",\"version\":1,\"id\":\"u\",\"text\":\"__\"}");
        int at = new String(invalidUtf8, StandardCharsets.UTF_8).indexOf("__");
        invalidUtf8[at] = (byte) 0xC3; // 0xC3 starts a 2-byte sequence; 0x28 '(' is not a continuation byte
        invalidUtf8[at + 1] = (byte) 0x28;
        return Stream.of(
                Arguments.of("malformed JSON", utf8("{\"type\":\"text\",\"version\":1,"), ErrorKind.MALFORMED_JSON),
                Arguments.of("invalid UTF-8 0xC3 0x28", invalidUtf8, ErrorKind.INVALID_UTF8),
                Arguments.of("missing text", utf8("{\"type\":\"text\",\"version\":1,\"id\":\"m\"}"),
                        ErrorKind.MISSING_FIELD),
                Arguments.of("unknown type", utf8("{\"type\":\"video\",\"version\":1,\"id\":\"v\",\"text\":\"x\"}"),
                        ErrorKind.UNKNOWN_TYPE),
                Arguments.of("version 2", utf8("{\"type\":\"text\",\"version\":2,\"id\":\"v2\",\"text\":\"x\"}"),
                        ErrorKind.UNSUPPORTED_VERSION),
                Arguments.of("null value (tombstone)", null, ErrorKind.EMPTY_RECORD));
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("malformedInputs")
    void malformedInputBecomesDeadLetterWithOriginalBytes(String name, byte[] value, ErrorKind kind)
            throws Exception {
        byte[] key = utf8("key-" + name);
        RawRecord in = raw(7, key, value);

        harness.processElement(in, TIMESTAMP);

        assertThat(harness.extractOutputValues()).as("main output").isEmpty();
        List<DeadLetterRecord> dlq = deadLetters(harness);
        assertThat(dlq).hasSize(1);
        DeadLetterRecord d = dlq.get(0);
        assertThat(d.kind()).isEqualTo(kind);
        assertThat(d.key()).isEqualTo(key);
        assertThat(d.value()).isEqualTo(value);
        assertThat(d.stage()).isEqualTo("decode").isEqualTo(DecodeTextFunction.STAGE);
        assertThat(d.source()).isEqualTo(new SourceRef(TOPIC, PARTITION, 7, TIMESTAMP + 7));
        assertThat(d.failedAt()).isEqualTo(NOW_MS);
        assertThat(d.message()).isNotBlank();
    }

    @Test
    void recordOverTheConfiguredSizeLimitIsOversize() throws Exception {
        int maxRecordBytes = 64;
        Limits small = new Limits(maxRecordBytes, 32, 128, 64, 1 << 20);
        var h = ProcessFunctionTestHarnesses.forProcessFunction(new DecodeTextFunction(small));
        try {
            byte[] value = utf8(textEvent("big", "x".repeat(100)));
            assertThat(value.length).isGreaterThan(maxRecordBytes);

            h.processElement(raw(9, utf8("big"), value), TIMESTAMP);

            assertThat(h.extractOutputValues()).isEmpty();
            List<DeadLetterRecord> dlq = deadLetters(h);
            assertThat(dlq).singleElement().satisfies(d -> {
                assertThat(d.kind()).isEqualTo(ErrorKind.OVERSIZE_RECORD);
                assertThat(d.value()).isEqualTo(value);
                assertThat(d.key()).isEqualTo(utf8("big"));
                assertThat(d.stage()).isEqualTo("decode");
                assertThat(d.message()).contains(Limits.KEY_MAX_RECORD_BYTES);
            });
        } finally {
            h.close();
        }
    }

    @Test
    void recordWithinTheSmallLimitStillPasses() throws Exception {
        Limits small = new Limits(128, 32, 128, 64, 1 << 20);
        var h = ProcessFunctionTestHarnesses.forProcessFunction(new DecodeTextFunction(small));
        try {
            h.processElement(raw(1, null, utf8("{\"type\":\"text\",\"version\":1,\"id\":\"s\",\"text\":\"ok\"}")),
                    TIMESTAMP);
            assertThat(h.extractOutputValues()).singleElement()
                    .satisfies(st -> assertThat(st.event().text()).isEqualTo("ok"));
        } finally {
            h.close();
        }
    }

    @Test
    void longReasonIsCutToMaxMessageChars() {
        RawRecord in = raw(1, null, utf8("x"));
        String exactlyMax = "m".repeat(DeadLetters.MAX_MESSAGE_CHARS);

        DeadLetterRecord kept = DeadLetters.of(in, ErrorKind.INVALID_FIELD, exactlyMax, "decode", NOW_MS);
        DeadLetterRecord cut = DeadLetters.of(in, ErrorKind.INVALID_FIELD, exactlyMax + "tail", "decode", NOW_MS);

        assertThat(kept.message()).isEqualTo(exactlyMax);
        assertThat(cut.message()).hasSize(DeadLetters.MAX_MESSAGE_CHARS + "...".length())
                .isEqualTo(exactlyMax + "...");
    }

    @Test
    void missingReasonFallsBackToTheKindsWireName() {
        DeadLetterRecord d = DeadLetters.of(raw(1, null, null), ErrorKind.EMPTY_RECORD, null, "decode", NOW_MS);
        assertThat(d.message()).isEqualTo("empty_record");
    }

    // ---- metrics ---------------------------------------------------------------------------------------------

    /** Sum of a counter's series (over all jobs) whose {@code label} has {@code value}. */
    private static double sum(Counter counter, String label, String value) {
        return counter.collect().getDataPoints().stream()
                .filter(d -> value.equals(d.getLabels().get(label)))
                .mapToDouble(point -> point.getValue()).sum();
    }

    @Test
    void deadLetterCountersAreLabelledByReason() throws Exception {
        Map<ErrorKind, Double> before = new EnumMap<>(ErrorKind.class);
        for (ErrorKind kind : ErrorKind.values()) {
            before.put(kind, sum(InflowMetrics.DEAD_LETTERS, InflowMetrics.REASON, kind.wireName()));
        }
        double inBefore = sum(InflowMetrics.RECORDS_IN, InflowMetrics.OPERATOR, DecodeTextFunction.STAGE);
        double outBefore = sum(InflowMetrics.RECORDS_OUT, InflowMetrics.OPERATOR, DecodeTextFunction.STAGE);

        harness.processElement(raw(0, null, utf8("{broken")), TIMESTAMP);
        harness.processElement(raw(1, null, utf8("[1,2]")), TIMESTAMP);
        harness.processElement(raw(2, null, null), TIMESTAMP);
        harness.processElement(raw(3, null, utf8(textEvent("ok", "fine"))), TIMESTAMP);

        for (ErrorKind kind : ErrorKind.values()) {
            long expected = switch (kind) {
                case MALFORMED_JSON -> 2;
                case EMPTY_RECORD -> 1;
                default -> 0;
            };
            assertThat(InflowMetrics.DEAD_LETTERS.collect().getDataPoints())
                    .as("a series per reason exists from the start: %s", kind.wireName())
                    .anyMatch(d -> kind.wireName().equals(d.getLabels().get(InflowMetrics.REASON)));
            assertThat(sum(InflowMetrics.DEAD_LETTERS, InflowMetrics.REASON, kind.wireName()) - before.get(kind))
                    .as(kind.wireName()).isEqualTo(expected);
        }
        assertThat(sum(InflowMetrics.RECORDS_IN, InflowMetrics.OPERATOR, DecodeTextFunction.STAGE) - inBefore)
                .isEqualTo(4);
        assertThat(sum(InflowMetrics.RECORDS_OUT, InflowMetrics.OPERATOR, DecodeTextFunction.STAGE) - outBefore)
                .isEqualTo(1);
    }

    // ---- downstream failures ---------------------------------------------------------------------------------

    /** A context outside any operator: records side outputs, fixed processing time. */
    private static final class RecordingContext {
        final List<Object> sideOutputs = new ArrayList<>();

        ProcessFunction<RawRecord, SourcedText>.Context of(DecodeTextFunction fn) {
            TimerService timers = new TimerService() {
                @Override
                public long currentProcessingTime() {
                    return NOW_MS;
                }

                @Override
                public long currentWatermark() {
                    return Long.MIN_VALUE;
                }

                @Override
                public void registerProcessingTimeTimer(long time) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public void registerEventTimeTimer(long time) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public void deleteProcessingTimeTimer(long time) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public void deleteEventTimeTimer(long time) {
                    throw new UnsupportedOperationException();
                }
            };
            return fn.new Context() {
                @Override
                public Long timestamp() {
                    return TIMESTAMP;
                }

                @Override
                public TimerService timerService() {
                    return timers;
                }

                @Override
                public <X> void output(OutputTag<X> outputTag, X value) {
                    sideOutputs.add(value);
                }
            };
        }
    }

    /** A chained downstream operator that fails on every record. */
    private static final class FailingDownstream implements Collector<SourcedText> {
        final RuntimeException failure = new IllegalStateException("downstream operator failed");
        int calls;

        @Override
        public void collect(SourcedText record) {
            calls++;
            throw failure;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void downstreamFailureDuringCollectFailsTheTaskAndIsNotDeadLettered() throws Exception {
        DecodeTextFunction fn = new DecodeTextFunction(Limits.defaults());
        // the harness opens the function (decoder, counters); the call below bypasses the operator
        var h = ProcessFunctionTestHarnesses.forProcessFunction(fn);
        try {
            RecordingContext ctx = new RecordingContext();
            FailingDownstream downstream = new FailingDownstream();
            RawRecord valid = raw(5, utf8("k"), utf8(textEvent("good", "valid text")));

            assertThatThrownBy(() -> fn.processElement(valid, ctx.of(fn), downstream))
                    .isSameAs(downstream.failure);

            assertThat(downstream.calls).isEqualTo(1);
            assertThat(ctx.sideOutputs).as("dead letters").isEmpty();
        } finally {
            h.close();
        }
    }

    @Test
    void invalidRecordWithFailingDownstreamStillGoesOnlyToDeadLetters() throws Exception {
        DecodeTextFunction fn = new DecodeTextFunction(Limits.defaults());
        var h = ProcessFunctionTestHarnesses.forProcessFunction(fn);
        try {
            RecordingContext ctx = new RecordingContext();
            FailingDownstream downstream = new FailingDownstream();

            fn.processElement(raw(6, null, utf8("not json")), ctx.of(fn), downstream);

            assertThat(downstream.calls).isZero();
            assertThat(ctx.sideOutputs).singleElement().isInstanceOfSatisfying(DeadLetterRecord.class,
                    d -> assertThat(d.kind()).isEqualTo(ErrorKind.MALFORMED_JSON));
        } finally {
            h.close();
        }
    }
}
