package io.inflow.sql;

import io.inflow.gpu.text.TextModel;
import io.inflow.operators.embed.EncoderSpec;
import io.inflow.schemas.ErrorKind;

import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The batching core every task shares, with a stand-in model (no weights): a batch that throws is bisected down to
 * the row that fails alone, which gets NULL outputs and is counted as {@code compute_failed}; rows the task rejects
 * are counted under their reason; NULL inputs are answered at once; the model is opened, used and closed on the
 * compute thread, never on the caller's.
 */
class BatchedPredictFunctionTest {

    private static final String JOB = "batched-predict-test";

    /** Upper-cases texts; "poison" makes its whole batch throw, "nan" is a non-finite output, "corrupt" a bad image. */
    private static final class Upper extends BatchedPredictFunction<String, AutoCloseable> {
        final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
        final Set<String> threads = ConcurrentHashMap.newKeySet();

        Upper(EmbeddingModelSettings settings) {
            super(settings, 8, 2);
        }

        @Override
        protected AutoCloseable openModel(String name) {
            threads.add(Thread.currentThread().getName());
            return () -> threads.add(Thread.currentThread().getName());
        }

        @Override
        protected String version(AutoCloseable model) {
            return "test";
        }

        @Override
        protected String backend(AutoCloseable model) {
            return "cpu";
        }

        @Override
        protected String input(RowData row) {
            return row.isNullAt(0) ? null : row.getString(0).toString();
        }

        @Override
        protected Answers compute(AutoCloseable model, List<String> inputs) {
            threads.add(Thread.currentThread().getName());
            batchSizes.add(inputs.size());
            if (inputs.contains("poison")) {
                throw new IllegalStateException("poison in a batch of " + inputs.size());
            }
            RowData[] rows = new RowData[inputs.size()];
            ErrorKind[] rejected = new ErrorKind[inputs.size()];
            for (int r = 0; r < rows.length; r++) {
                switch (inputs.get(r)) {
                    case "nan" -> rejected[r] = ErrorKind.NON_FINITE_OUTPUT;
                    case "corrupt" -> rejected[r] = ErrorKind.IMAGE_CORRUPT;
                    default -> rows[r] = GenericRowData.of(StringData.fromString(inputs.get(r).toUpperCase()),
                            (float) r);
                }
            }
            return new Answers(rows, rejected, rows.length, 0, 0);
        }
    }

    @Test
    void poisonRowIsBisectedOutAndBadRowsAreCountedByReason() throws Exception {
        EmbeddingModelSettings settings = new EmbeddingModelSettings(
                EncoderSpec.defaults(TextModel.ALL_MINILM_L6_V2, 1, 16), 16, 8, Duration.ofMillis(20), false, "0",
                "127.0.0.1", JOB);
        Upper f = new Upper(settings);
        double[] before = counts();
        f.open("ml-predict-test-0");
        List<String> inputs = List.of("a", "b", "poison", "nan", "c", "corrupt", "d", "e");
        List<CompletableFuture<Collection<RowData>>> answers = new ArrayList<>();
        for (String in : inputs) {
            answers.add(f.asyncPredict(GenericRowData.of(StringData.fromString(in))));
        }
        CompletableFuture<Collection<RowData>> nullAnswer = f.asyncPredict(GenericRowData.of((Object) null));
        assertThat(nullAnswer).isDone(); // NULL input: answered at once, on the caller's thread
        assertThat(single(nullAnswer).isNullAt(0) && single(nullAnswer).isNullAt(1)).isTrue();
        for (int i = 0; i < inputs.size(); i++) {
            RowData row = answers.get(i).get(10, TimeUnit.SECONDS).iterator().next();
            String in = inputs.get(i);
            if (Set.of("poison", "nan", "corrupt").contains(in)) {
                assertThat(row.getArity()).isEqualTo(2);
                assertThat(row.isNullAt(0) && row.isNullAt(1)).as("row %s is all NULL", in).isTrue();
            } else {
                assertThat(row.getString(0).toString()).isEqualTo(in.toUpperCase());
            }
        }
        f.close();
        double[] after = counts();
        assertThat(after[0] - before[0]).as("compute_failed").isEqualTo(1.0);
        assertThat(after[1] - before[1]).as("non_finite_output").isEqualTo(1.0);
        assertThat(after[2] - before[2]).as("image_corrupt").isEqualTo(1.0);
        // 8 rows throw; their first half throws: [a b] fine, [poison nan] throws: [poison] alone, [nan]; last half
        assertThat(f.batchSizes).containsExactly(8, 4, 2, 2, 1, 1, 4);
        assertThat(f.threads).as("open, compute and close on the compute thread").hasSize(1)
                .allSatisfy(t -> assertThat(t).startsWith("inflow-ml-predict-test-0"));
    }

    private static RowData single(CompletableFuture<Collection<RowData>> answer) {
        return answer.join().iterator().next();
    }

    private static double[] counts() {
        return new double[] {
            SqlKafka.counter("inflow_dead_letters_total", Map.of("job", JOB, "reason", "compute_failed")),
            SqlKafka.counter("inflow_dead_letters_total", Map.of("job", JOB, "reason", "non_finite_output")),
            SqlKafka.counter("inflow_dead_letters_total", Map.of("job", JOB, "reason", "image_corrupt"))};
    }
}
