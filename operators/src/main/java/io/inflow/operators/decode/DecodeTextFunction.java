package io.inflow.operators.decode;

import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.RecordRejectedException;
import io.inflow.schemas.SourcedText;

/**
 * Decodes and validates text events ({@code events.text}) into {@link SourcedText}; see {@link DecodeFunction} for
 * what is rejected and the metrics ({@code modality="text"}).
 *
 * <pre>{@code
 * SingleOutputStreamOperator<SourcedText> texts = raw.process(new DecodeTextFunction(Limits.defaults()));
 * DataStream<DeadLetterRecord> rejected = texts.getSideOutput(DeadLetters.TAG);
 * }</pre>
 */
public final class DecodeTextFunction extends DecodeFunction<SourcedText> {

    private static final long serialVersionUID = 1L;
    /** The {@code modality} label of its metrics. */
    public static final String MODALITY = "text";

    public DecodeTextFunction(Limits limits) {
        super(limits, MODALITY);
    }

    @Override
    protected SourcedText decode(InputDecoder decoder, RawRecord raw) throws RecordRejectedException {
        return new SourcedText(decoder.decodeText(raw.value()), raw);
    }
}
