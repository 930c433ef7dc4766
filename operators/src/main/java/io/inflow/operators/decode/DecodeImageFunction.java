package io.inflow.operators.decode;

import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.RecordRejectedException;
import io.inflow.schemas.SourcedImage;

/**
 * Decodes and validates image events ({@code events.image}: the JSON envelope, not the pixels) into
 * {@link SourcedImage}, which keeps the raw record so that a later step (pixel decoding) can still dead-letter the
 * original bytes; see {@link DecodeFunction} for what is rejected and the metrics ({@code modality="image"}).
 *
 * <pre>{@code
 * SingleOutputStreamOperator<SourcedImage> images = raw.process(new DecodeImageFunction(Limits.defaults()));
 * }</pre>
 */
public final class DecodeImageFunction extends DecodeFunction<SourcedImage> {

    private static final long serialVersionUID = 1L;
    /** The {@code modality} label of its metrics. */
    public static final String MODALITY = "image";

    public DecodeImageFunction(Limits limits) {
        super(limits, MODALITY);
    }

    @Override
    protected SourcedImage decode(InputDecoder decoder, RawRecord raw) throws RecordRejectedException {
        return new SourcedImage(decoder.decodeImage(raw.value()), raw);
    }
}
