package io.inflow.operators.decode;

import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.operators.metrics.MetricsEndpoint;
import io.inflow.operators.metrics.MetricsOptions;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.RecordRejectedException;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.operators.StreamingRuntimeContext;
import org.apache.flink.util.Collector;

import java.util.EnumMap;
import java.util.Map;

/**
 * Decodes and validates the JSON events of one topic: a valid event goes on as {@code OUT}; anything else
 * (malformed JSON, invalid UTF-8, missing or invalid fields, oversize payloads, unknown types or versions) goes to
 * {@link DeadLetters#TAG} with its original bytes and the reason. Never throws on content. Subclasses say which
 * event type the topic carries ({@link DecodeTextFunction}, {@link DecodeImageFunction}).
 *
 * <p>Metrics ({@link InflowMetrics}, labels {@code job}, {@code operator="decode"}, {@code modality}):
 * {@code inflow_records_in_total} (every record read), {@code inflow_records_out_total} (valid events) and
 * {@code inflow_dead_letters_total{reason}} with one series per {@link ErrorKind}, present from the start at 0.
 *
 * <pre>{@code
 * SingleOutputStreamOperator<SourcedText> texts = raw.process(new DecodeTextFunction(Limits.defaults()));
 * DataStream<DeadLetterRecord> rejected = texts.getSideOutput(DeadLetters.TAG);
 * }</pre>
 *
 * @param <OUT> the decoded event with its source
 */
public abstract class DecodeFunction<OUT> extends ProcessFunction<RawRecord, OUT> {

    private static final long serialVersionUID = 1L;
    /** Stage name written into dead-letter records; also the {@code operator} label of its metrics. */
    public static final String STAGE = "decode";

    private final Limits limits;
    private final String modality;
    private transient InputDecoder decoder;
    private transient Map<ErrorKind, CounterDataPoint> deadLetters;
    private transient CounterDataPoint recordsIn;
    private transient CounterDataPoint decoded;
    private transient MetricsEndpoint.Lease endpoint;

    protected DecodeFunction(Limits limits, String modality) {
        this.limits = limits;
        this.modality = modality;
    }

    /**
     * Decodes one record's value.
     *
     * @throws RecordRejectedException when the record is not a valid event of this topic
     */
    protected abstract OUT decode(InputDecoder decoder, RawRecord raw) throws RecordRejectedException;

    @Override
    public void open(OpenContext openContext) {
        decoder = new InputDecoder(limits);
        RuntimeContext ctx = getRuntimeContext();
        String job = ctx.getJobInfo().getJobName();
        deadLetters = new EnumMap<>(ErrorKind.class);
        for (ErrorKind kind : ErrorKind.values()) {
            deadLetters.put(kind, InflowMetrics.DEAD_LETTERS.labelValues(job, STAGE, modality, kind.wireName()));
        }
        // no model at this stage: the empty label value is the same as no label in PromQL
        recordsIn = InflowMetrics.RECORDS_IN.labelValues(job, STAGE, modality, "");
        decoded = InflowMetrics.RECORDS_OUT.labelValues(job, STAGE, modality, "");
        endpoint = MetricsEndpoint.acquire(MetricsOptions.settings(taskManagerConfig(ctx), jobConfig(ctx)));
    }

    static ReadableConfig taskManagerConfig(RuntimeContext ctx) {
        return ctx instanceof StreamingRuntimeContext s ? s.getTaskManagerRuntimeInfo().getConfiguration() : null;
    }

    static ReadableConfig jobConfig(RuntimeContext ctx) {
        return ctx instanceof StreamingRuntimeContext s ? s.getJobConfiguration() : null;
    }

    @Override
    public void close() throws Exception {
        if (endpoint != null) {
            endpoint.close();
            endpoint = null;
        }
        super.close();
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<OUT> out) {
        recordsIn.inc();
        OUT event;
        try {
            event = decode(decoder, raw);
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
        out.collect(event);
    }

    private void reject(RawRecord raw, ErrorKind kind, String message, Context ctx) {
        ctx.output(DeadLetters.TAG, DeadLetters.of(raw, kind, message, STAGE,
                ctx.timerService().currentProcessingTime()));
        deadLetters.get(kind).inc();
    }
}
