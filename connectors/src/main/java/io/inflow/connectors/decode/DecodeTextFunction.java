package io.inflow.connectors.decode;

import io.inflow.connectors.kafka.RawRecord;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;
import io.inflow.schemas.RecordRejectedException;
import io.inflow.schemas.SourcedText;
import io.inflow.schemas.TextEvent;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.util.EnumMap;
import java.util.Map;

/**
 * Decodes and validates text events. A valid event goes on as {@link SourcedText}; anything else (malformed JSON,
 * invalid UTF-8, missing or invalid fields, oversize payloads, unknown types or versions) goes to
 * {@link DeadLetters#TAG} with its original bytes and the reason. Never throws on content.
 *
 * <p>Metrics (operator group, sub-group {@code inflow}): {@code dead_letters_total} with a {@code reason} label per
 * {@link ErrorKind}, {@code decoded_total}.
 *
 * <pre>{@code
 * SingleOutputStreamOperator<SourcedText> texts = raw.process(new DecodeTextFunction(Limits.defaults()));
 * DataStream<DeadLetterRecord> rejected = texts.getSideOutput(DeadLetters.TAG);
 * }</pre>
 */
public final class DecodeTextFunction extends ProcessFunction<RawRecord, SourcedText> {

    private static final long serialVersionUID = 1L;
    /** Stage name written into dead-letter records. */
    public static final String STAGE = "decode";

    private final Limits limits;
    private transient InputDecoder decoder;
    private transient Map<ErrorKind, Counter> deadLetters;
    private transient Counter decoded;

    public DecodeTextFunction(Limits limits) {
        this.limits = limits;
    }

    @Override
    public void open(OpenContext openContext) {
        decoder = new InputDecoder(limits);
        MetricGroup group = getRuntimeContext().getMetricGroup().addGroup("inflow");
        deadLetters = new EnumMap<>(ErrorKind.class);
        for (ErrorKind kind : ErrorKind.values()) {
            deadLetters.put(kind, group.addGroup("reason", kind.wireName()).counter("dead_letters_total"));
        }
        decoded = group.counter("decoded_total");
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<SourcedText> out) {
        TextEvent event;
        try {
            event = decoder.decodeText(raw.value());
        } catch (RecordRejectedException e) {
            reject(raw, e.kind(), e.getMessage(), ctx);
            return;
        } catch (RuntimeException e) {
            // a decoder bug must not fail the job for one record: keep the record and the reason
            reject(raw, ErrorKind.MALFORMED_JSON, "decoder error: " + e, ctx);
            return;
        }
        decoded.inc();
        // outside the try: downstream operators are chained, their failures must fail the task, not the record
        out.collect(new SourcedText(event, raw.source()));
    }

    private void reject(RawRecord raw, ErrorKind kind, String message, Context ctx) {
        ctx.output(DeadLetters.TAG, DeadLetters.of(raw, kind, message, STAGE,
                ctx.timerService().currentProcessingTime()));
        deadLetters.get(kind).inc();
    }
}
