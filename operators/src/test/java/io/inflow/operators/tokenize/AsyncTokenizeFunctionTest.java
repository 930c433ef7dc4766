package io.inflow.operators.tokenize;

import io.inflow.gpu.text.TextModel;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.SourceRef;
import io.inflow.schemas.SourcedText;
import io.inflow.schemas.TextEvent;

import org.apache.flink.streaming.api.functions.async.CollectionSupplier;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AsyncTokenizeFunctionTest {

    private AsyncTokenizeFunction fn;

    @BeforeEach
    void open() {
        fn = new AsyncTokenizeFunction(TextModel.ALL_MINILM_L6_V2, 16, 1);
        fn.open(null);
    }

    @AfterEach
    void close() throws Exception {
        fn.close();
    }

    private static SourcedText text(String id, String text) {
        return new SourcedText(new TextEvent(id, text, null, null, Map.of()), new RawRecord("events.text", 1, 5, 9, null,
                text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private static CompletableFuture<Collection<TokenizedText>> invoke(AsyncTokenizeFunction f, SourcedText in) {
        return invoke(f, in, new AtomicReference<>());
    }

    /** As {@link #invoke(AsyncTokenizeFunction, SourcedText)}, recording the thread that completed the result. */
    private static CompletableFuture<Collection<TokenizedText>> invoke(AsyncTokenizeFunction f, SourcedText in,
            AtomicReference<Thread> completedOn) {
        CompletableFuture<Collection<TokenizedText>> done = new CompletableFuture<>();
        f.asyncInvoke(in, new ResultFuture<>() {
            @Override
            public void complete(Collection<TokenizedText> result) {
                completedOn.set(Thread.currentThread()); // before done.complete: visible once done is
                done.complete(result);
            }

            @Override
            public void completeExceptionally(Throwable error) {
                done.completeExceptionally(error);
            }

            @Override
            public void complete(CollectionSupplier<TokenizedText> supplier) {
                try {
                    done.complete(supplier.get());
                } catch (Exception e) {
                    done.completeExceptionally(e);
                }
            }
        });
        return done;
    }

    @Test
    void tokenizesOffTheCallingThreadAndKeepsTheInput() throws Exception {
        SourcedText in = text("a", "A man is eating food.");
        AtomicReference<Thread> completedOn = new AtomicReference<>();
        List<TokenizedText> out = new ArrayList<>(invoke(fn, in, completedOn).get(30, TimeUnit.SECONDS));
        // the result is completed by the thread that tokenized (asyncInvoke hands both to the tokenizer pool)
        assertThat(completedOn.get()).as("thread that tokenized").isNotNull().isNotSameAs(Thread.currentThread());
        assertThat(completedOn.get().getName()).startsWith("inflow-tokenizer");
        assertThat(out).hasSize(1);
        assertThat(out.get(0).input()).isSameAs(in);
        assertThat(out.get(0).ids()).containsExactly(101, 1037, 2158, 2003, 5983, 2833, 1012, 102);
        assertThat(out.get(0).truncated()).isFalse();
    }

    @Test
    void truncatesToTheLimitAndFlagsIt() throws Exception {
        TokenizedText t = invoke(fn, text("t", "one two three four five six seven eight nine ten eleven twelve"
                + " thirteen fourteen fifteen sixteen seventeen eighteen")).get(30, TimeUnit.SECONDS).iterator().next();
        assertThat(t.ids()).hasSize(16);
        assertThat(t.truncated()).isTrue();
    }

    @Test
    void timeoutFailsWithTheEventId() {
        CompletableFuture<Collection<TokenizedText>> done = new CompletableFuture<>();
        fn.timeout(text("slow", "x"), new ResultFuture<>() {
            @Override
            public void complete(Collection<TokenizedText> result) {
                done.complete(result);
            }

            @Override
            public void completeExceptionally(Throwable error) {
                done.completeExceptionally(error);
            }

            @Override
            public void complete(CollectionSupplier<TokenizedText> supplier) {
            }
        });
        assertThatThrownBy(done::join).hasCauseInstanceOf(TimeoutException.class).hasMessageContaining("slow");
    }

    @Test
    void rejectsZeroThreads() {
        assertThatThrownBy(() -> new AsyncTokenizeFunction(TextModel.ALL_MINILM_L6_V2, 16, 0))
                .hasMessageContaining("at least 1 (was 0)");
    }
}
