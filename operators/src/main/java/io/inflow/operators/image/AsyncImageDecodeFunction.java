package io.inflow.operators.image;

import io.inflow.gpu.image.DecodedImage;
import io.inflow.gpu.image.ImageDecoder;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ImageEvent;
import io.inflow.schemas.RecordRejectedException;
import io.inflow.schemas.SourcedImage;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import io.inflow.operators.runtime.HelperThreads;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Decodes image pixels off the task thread: reads the inline bytes or the {@code file:} reference (confined to the
 * configured root), checks the limits from the header, decodes with the JDK's reader for the format
 * ({@link ImageDecoder}). Run it with {@code AsyncDataStream.orderedWait}: the async operator bounds the queue (back
 * pressure), returns results through the task mailbox in input order and checkpoints the images still in flight.
 *
 * <p>Content never fails the job: an image that cannot be read or decoded completes as a
 * {@link DecodedImageEvent#rejected rejected} result (unsupported format, corrupt or truncated data, too large,
 * unreadable reference), which {@link RouteRejectedImages} sends to the dead-letter topic.
 *
 * <pre>{@code
 * DataStream<DecodedImageEvent> decoded = AsyncDataStream.orderedWait(images,
 *         new AsyncImageDecodeFunction(ImageDecodeSpec.defaults("/data/images"), 2), 60, TimeUnit.SECONDS, 64);
 * }</pre>
 */
public final class AsyncImageDecodeFunction extends RichAsyncFunction<SourcedImage, DecodedImageEvent> {

    private static final long serialVersionUID = 1L;

    private final ImageDecodeSpec spec;
    private final int threads;
    private transient ImageDecoder decoder;
    private transient ExecutorService executor;

    /**
     * @param threads decoder threads per operator instance (the decoder is thread-safe)
     */
    public AsyncImageDecodeFunction(ImageDecodeSpec spec, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("image decoder threads must be at least 1 (was " + threads + ")");
        }
        this.spec = spec;
        this.threads = threads;
    }

    @Override
    public void open(OpenContext openContext) {
        decoder = new ImageDecoder(spec.toConfig());
        executor = HelperThreads.pool("inflow-image-decoder", threads);
    }

    @Override
    public void asyncInvoke(SourcedImage input, ResultFuture<DecodedImageEvent> result) {
        executor.execute(() -> {
            try {
                result.complete(List.of(decode(decoder, input)));
            } catch (OutOfMemoryError e) {
                // not the image's fault: the limits admitted it, the heap is too small for them
                result.completeExceptionally(new IllegalStateException("out of heap decoding image event "
                        + input.event().id() + ": give the task managers more heap or lower inflow.image.max-pixels"
                        + " / inflow.image.decode-capacity", e));
            }
        });
    }

    /** Decodes one image (an image event's or a corpus image document's); never throws on content. */
    public static DecodedImageEvent decode(ImageDecoder decoder, SourcedImage input) {
        ImageEvent event = input.event();
        try {
            DecodedImage image = decoder.decode(event);
            return DecodedImageEvent.decoded(event.id(), event.attributes(), input.raw(), image);
        } catch (RecordRejectedException e) {
            return DecodedImageEvent.rejected(input.raw(), e.kind(), e.getMessage());
        } catch (RuntimeException e) {
            // a reader bug on hostile input: keep the record and the reason
            return DecodedImageEvent.rejected(input.raw(), ErrorKind.IMAGE_CORRUPT,
                    "image decoder error on event " + event.id() + ": " + e);
        }
    }

    @Override
    public void timeout(SourcedImage input, ResultFuture<DecodedImageEvent> result) {
        result.completeExceptionally(new TimeoutException("decoding image event " + input.event().id()
                + " took longer than the async timeout; the decoder threads are stuck or starved"));
    }

    @Override
    public void close() throws Exception {
        if (executor != null) {
            executor.shutdownNow();
            executor.awaitTermination(10, TimeUnit.SECONDS);
        }
    }
}
