package io.inflow.sql;

import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Options and schema of an {@code inflow-index} table, checked by the real planner: each bad table fails the
 * planning of a {@code VECTOR_SEARCH} query on it (explain: nothing runs, no broker is contacted) with a message
 * naming the option or column.
 */
class IndexValidationTest {

    private static final String GOOD = "'connector' = 'inflow-index', 'topic' = 'corpus',"
            + " 'properties.bootstrap.servers' = 'localhost:1'";
    private static final String COLUMNS = "doc_id STRING, embedding ARRAY<FLOAT>, text STRING";
    private static final AtomicInteger TABLES = new AtomicInteger();
    private static TableEnvironment tEnv;

    @BeforeAll
    static void planner() {
        tEnv = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        // a Kafka table (never contacted: explain only); a VALUES row would be folded into a constant search
        tEnv.executeSql("CREATE TEMPORARY TABLE queries (id INT, qv ARRAY<FLOAT>) WITH ('connector' = 'kafka',"
                + " 'topic' = 'queries', 'properties.bootstrap.servers' = 'localhost:1', 'scan.startup.mode' = 'earliest-offset',"
                + " 'format' = 'json')");
    }

    /** Creates a table and plans a search on it; returns the plan. */
    private static String plan(String columns, String options, String searchColumn) {
        String name = "d" + TABLES.incrementAndGet();
        tEnv.executeSql("CREATE TEMPORARY TABLE " + name + " (" + columns + ") WITH (" + options + ")");
        return tEnv.explainSql("SELECT * FROM queries, LATERAL TABLE(VECTOR_SEARCH(TABLE " + name
                + ", DESCRIPTOR(" + searchColumn + "), queries.qv, 10))");
    }

    /** The messages of the planning error's cause chain. */
    private static List<String> planningError(String columns, String options) {
        List<String> messages = new ArrayList<>();
        assertThatThrownBy(() -> plan(columns, options, "embedding")).satisfies(e -> {
            for (Throwable t = e; t != null; t = t.getCause()) {
                messages.add(t.getMessage());
            }
        });
        return messages;
    }

    private static List<String> optionError(String extra) {
        return planningError(COLUMNS, GOOD + ", " + extra);
    }

    @Test
    void goodTablePlansAsVectorSearch() {
        String plan = plan(COLUMNS, GOOD + ", 'metric' = 'l2', 'storage' = 'int8', 'model' = 'bge-small-en-v15',"
                + " 'dimension' = '384', 'properties.security.protocol' = 'PLAINTEXT', 'wait-for-corpus' = 'false'",
                "embedding");
        assertThat(plan).contains("VectorSearchTableFunction(").contains("columnToSearch=[embedding]");
        assertThat(plan("doc_id STRING, vec ARRAY<FLOAT>", GOOD, "vec")).contains("columnToSearch=[vec]");
    }

    @Test
    void badOptionValuesNameTheOption() {
        assertThat(optionError("'model' = 'gpt-4'"))
                .contains("'model': unknown model 'gpt-4'; known: all-minilm-l6-v2, bge-small-en-v15");
        assertThat(optionError("'metric' = 'dot'"))
                .contains("'metric': unknown metric 'dot'; use inner_product, cosine or l2");
        assertThat(optionError("'storage' = 'bf16'"))
                .contains("'storage': unknown storage 'bf16'; use float32, float16 or int8");
        assertThat(optionError("'chunk-rows' = '0'")).contains("'chunk-rows' must be between 1 and 1048576 (got 0)");
        assertThat(optionError("'max-tokens' = '1'")).contains("'max-tokens' must be between 2 and 512 (got 1)");
        assertThat(optionError("'dimension' = '768'"))
                .contains("'dimension' is 768 but model 'all-minilm-l6-v2' produces 384-dimensional embeddings");
        assertThat(optionError("'wait-for-corpus.timeout' = '0 s'"))
                .contains("'wait-for-corpus.timeout' must be positive (got PT0S)");
        assertThat(optionError("'properties.value.deserializer' = 'x'"))
                .contains("'properties.value.deserializer' cannot be set: the index sets it itself (it reads keys and"
                        + " values as bytes and commits no offsets)");
    }

    @Test
    void missingAndUnknownKeysInFlinksWords() {
        assertThat(planningError(COLUMNS, "'connector' = 'inflow-index', 'properties.bootstrap.servers' = 'x:1'"))
                .anySatisfy(m -> assertThat(m).contains("Missing required options").contains("topic"));
        assertThat(optionError("'colour' = 'blue'"))
                .anySatisfy(m -> assertThat(m).contains("Unsupported options").contains("colour"));
    }

    @Test
    void badSchemasNameTheColumn() {
        assertThat(planningError("id STRING, embedding ARRAY<FLOAT>", GOOD))
                .contains("column 'id' is not one an inflow-index table fills: use doc_id STRING, one ARRAY<FLOAT>"
                        + " column (the embedding) and optionally text STRING");
        assertThat(planningError("doc_id INT, embedding ARRAY<FLOAT>", GOOD))
                .contains("column 'doc_id' must be STRING, got INT");
        assertThat(planningError("doc_id STRING, embedding ARRAY<DOUBLE>", GOOD))
                .contains("an inflow-index table has exactly one ARRAY<FLOAT> column (the document embeddings, 384"
                        + " values for 'all-minilm-l6-v2'); got (doc_id STRING, embedding ARRAY<DOUBLE>)");
        assertThat(planningError("embedding ARRAY<FLOAT>, text STRING", GOOD))
                .contains("an inflow-index table needs a doc_id STRING column and one ARRAY<FLOAT> column (the"
                        + " embedding); got (embedding ARRAY<FLOAT>, text STRING)");
        assertThat(planningError("doc_id STRING, embedding ARRAY<FLOAT>, n AS CHAR_LENGTH(doc_id)", GOOD))
                .contains("column 'n' is not a physical column: an inflow-index table has physical columns only");
    }
}
