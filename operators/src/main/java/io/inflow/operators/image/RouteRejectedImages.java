package io.inflow.operators.image;

import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.schemas.ErrorKind;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.util.EnumMap;
import java.util.Map;

/**
 * Sends images whose pixels could not be decoded to {@link DeadLetters#TAG} (stage {@value #STAGE}, original bytes,
 * kind and reason) and passes decoded images on.
 *
 * <p>Metrics ({@link InflowMetrics}, labels {@code job}, {@code operator="image-decode"}, {@code modality="image"}):
 * {@code inflow_dead_letters_total{reason}}, one series per {@link ErrorKind}, present from the start at 0.
 *
 * <pre>{@code
 * SingleOutputStreamOperator<DecodedImageEvent> ok = decoded.process(new RouteRejectedImages());
 * DataStream<DeadLetterRecord> rejected = ok.getSideOutput(DeadLetters.TAG);
 * }</pre>
 */
public final class RouteRejectedImages extends ProcessFunction<DecodedImageEvent, DecodedImageEvent> {

    private static final long serialVersionUID = 1L;
    /** Stage name written into dead-letter records; also the {@code operator} label of its metrics. */
    public static final String STAGE = "image-decode";
    /** The {@code modality} label of its metrics. */
    public static final String MODALITY = "image";

    private transient Map<ErrorKind, CounterDataPoint> deadLetters;

    @Override
    public void open(OpenContext openContext) {
        String job = getRuntimeContext().getJobInfo().getJobName();
        deadLetters = new EnumMap<>(ErrorKind.class);
        for (ErrorKind kind : ErrorKind.values()) {
            deadLetters.put(kind, InflowMetrics.DEAD_LETTERS.labelValues(job, STAGE, MODALITY, kind.wireName()));
        }
    }

    @Override
    public void processElement(DecodedImageEvent in, Context ctx, Collector<DecodedImageEvent> out) {
        if (in.isRejected()) {
            ctx.output(DeadLetters.TAG, DeadLetters.of(in.raw(), in.kind(), in.reason(), STAGE,
                    ctx.timerService().currentProcessingTime()));
            deadLetters.get(in.kind()).inc();
        } else {
            out.collect(in);
        }
    }
}
