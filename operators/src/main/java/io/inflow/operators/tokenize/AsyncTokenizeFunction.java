package io.inflow.operators.tokenize;

import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.schemas.SourcedText;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import io.inflow.operators.runtime.HelperThreads;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Tokenizes texts off the task thread with the model's tokenizer (truncating to the limit and flagging it). Run it
 * with Flink's {@code AsyncDataStream.orderedWait}: the async operator bounds the queue (back pressure), returns
 * results through the task mailbox in input order, and checkpoints the texts still in flight.
 *
 * <pre>{@code
 * DataStream<TokenizedText> tokens = AsyncDataStream.orderedWait(texts,
 *         new AsyncTokenizeFunction(TextModel.ALL_MINILM_L6_V2, 256, 1), 60, TimeUnit.SECONDS, 256);
 * }</pre>
 */
public class AsyncTokenizeFunction extends RichAsyncFunction<SourcedText, TokenizedText> {

    private static final long serialVersionUID = 1L;
    /** Stage name of the dead letters of texts the tokenizer failed on. */
    public static final String STAGE = "tokenize";

    private final TextModel model;
    private final int maxTokens;
    private final int threads;
    private transient TextTokenizer tokenizer;
    private transient ExecutorService executor;

    /**
     * @param threads tokenizer threads per operator instance (the tokenizer is thread-safe); 1 keeps up with a CPU
     *     encoder by two orders of magnitude (about 0.1 ms per text against 10 ms)
     */
    public AsyncTokenizeFunction(TextModel model, int maxTokens, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("tokenizer threads must be at least 1 (was " + threads + ")");
        }
        this.model = model;
        this.maxTokens = maxTokens;
        this.threads = threads;
    }

    @Override
    public void open(OpenContext openContext) {
        tokenizer = TextTokenizer.load(model, maxTokens);
        executor = HelperThreads.pool("inflow-tokenizer", threads);
    }

    @Override
    public void asyncInvoke(SourcedText input, ResultFuture<TokenizedText> result) {
        executor.execute(() -> {
            TokenizedText out;
            try {
                Tokenized t = tokenize(input.event().text());
                out = new TokenizedText(input, t.ids(), t.truncated());
            } catch (VirtualMachineError e) {
                result.completeExceptionally(e); // not the text's fault: fail the task
                return;
            } catch (Throwable e) {
                // the text's fault: it goes to the dead letters (tokenize_failed), the job goes on
                out = TokenizedText.failed(input, "tokenizer " + model.modelName() + " failed on event "
                        + input.event().id() + ": " + e);
            }
            result.complete(List.of(out));
        });
    }

    /** Tokenizes one text (tokenizer thread). */
    protected Tokenized tokenize(String text) {
        return tokenizer.encode(text);
    }

    @Override
    public void timeout(SourcedText input, ResultFuture<TokenizedText> result) {
        result.completeExceptionally(new TimeoutException("tokenizing event " + input.event().id()
                + " took longer than the async timeout; the tokenizer thread is stuck or starved"));
    }

    @Override
    public void close() throws Exception {
        if (executor != null) {
            executor.shutdownNow();
            executor.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
