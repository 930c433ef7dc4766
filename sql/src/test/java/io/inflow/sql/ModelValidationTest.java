package io.inflow.sql;

import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Options and schemas of an {@code inflow} model, checked by the real planner: each bad model fails the planning of
 * an {@code ML_PREDICT} query (explain, nothing runs) with a message naming the option or column.
 */
class ModelValidationTest {

    private static final String GOOD = "'provider' = 'inflow', 'task' = 'text-embedding', 'model' = 'all-minilm-l6-v2'";
    private static final AtomicInteger MODELS = new AtomicInteger();
    private static TableEnvironment tEnv;

    @BeforeAll
    static void planner() {
        tEnv = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        tEnv.executeSql("CREATE TEMPORARY VIEW events AS SELECT * FROM (VALUES (1, 'a dog', 'en', 7,"
                + " CAST(X'89504E47' AS BYTES))) AS t(id, text, lang, n, image)");
    }

    /** Creates a model and plans a query on it; returns the messages of the planning error's cause chain. */
    private static List<String> planningError(String input, String output, String options, String columns) {
        String name = "m" + MODELS.incrementAndGet();
        tEnv.executeSql("CREATE TEMPORARY MODEL " + name + " INPUT (" + input + ") OUTPUT (" + output + ") WITH ("
                + options + ")");
        List<String> messages = new ArrayList<>();
        assertThatThrownBy(() -> tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL " + name
                + ", DESCRIPTOR(" + columns + "))")).satisfies(e -> {
                    for (Throwable t = e; t != null; t = t.getCause()) {
                        messages.add(t.getMessage());
                    }
                });
        return messages;
    }

    private static List<String> optionError(String extra) {
        return planningError("text STRING", "embedding ARRAY<FLOAT>", GOOD + ", " + extra, "text");
    }

    @Test
    void goodModelPlansAsAsyncMlPredict() {
        tEnv.executeSql("CREATE TEMPORARY MODEL good INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>) WITH (" + GOOD
                + ", 'max-records' = '32', 'max-wait' = '20 ms', 'pooling' = 'CLS', 'backend' = 'CPU')");
        String plan = tEnv.explainSql("SELECT id, embedding FROM ML_PREDICT(TABLE events, MODEL good,"
                + " DESCRIPTOR(text))");
        assertThat(plan).contains("ML_PREDICT");
    }

    @Test
    void unsupportedTask() {
        assertThat(planningError("text STRING", "embedding ARRAY<FLOAT>",
                "'provider' = 'inflow', 'task' = 'classification', 'model' = 'all-minilm-l6-v2'", "text"))
                .contains("Unsupported 'task' = 'classification': the inflow provider supports 'text-embedding',"
                        + " 'image-embedding', 'text-classification'");
    }

    @Test
    void unknownModel() {
        assertThat(planningError("text STRING", "embedding ARRAY<FLOAT>",
                "'provider' = 'inflow', 'task' = 'text-embedding', 'model' = 'gpt-4'", "text"))
                .contains("'model': unknown model 'gpt-4'; known: all-minilm-l6-v2, bge-small-en-v15");
    }

    @Test
    void missingModelAndUnknownKeysInFlinksWords() {
        assertThat(planningError("text STRING", "embedding ARRAY<FLOAT>",
                "'provider' = 'inflow', 'task' = 'text-embedding'", "text"))
                .anySatisfy(m -> assertThat(m).contains("Missing required options").contains("model"));
        assertThat(optionError("'colour' = 'blue'"))
                .anySatisfy(m -> assertThat(m).contains("Unsupported options").contains("colour"));
    }

    @Test
    void batchingAndTokenLimits() {
        assertThat(optionError("'max-records' = '0'")).contains("'max-records' must be between 1 and 1024 (got 0)");
        assertThat(optionError("'max-records' = '5000'"))
                .contains("'max-records' must be between 1 and 1024 (got 5000)");
        assertThat(optionError("'max-wait' = '0 ms'")).contains("'max-wait' must be between 1 ms and 60 s (got 0 ms)");
        assertThat(optionError("'max-wait' = '2 min'"))
                .contains("'max-wait' must be between 1 ms and 60 s (got 120000 ms)");
        assertThat(optionError("'max-tokens' = '1000'")).contains("'max-tokens' must be between 2 and 512 (got 1000)");
        assertThat(optionError("'max-records' = 'many'")).contains("Invalid value for option 'max-records'.");
    }

    /** Values that do not parse fail in Flink's option helper, whose messages name the option and the values. */
    @Test
    void enumOptionsNameTheirValues() {
        assertThat(optionError("'pooling' = 'MAX'")).contains("Invalid value for option 'pooling'.",
                "Could not parse value for enum class io.inflow.gpu.pooling.PoolingMode. Expected one of:"
                        + " [[MEAN, CLS, LAST_TOKEN, MULTI_LAYER_MEAN]]");
        assertThat(optionError("'backend' = 'TPU'")).contains("Invalid value for option 'backend'.",
                "Could not parse value for enum class io.inflow.gpu.backend.BackendKind. Expected one of:"
                        + " [[AUTO, CPU, CUDA]]");
    }

    /** CREATE MODEL only stores the options: the provider is built, and checked, when a query is planned. */
    @Test
    void createModelAcceptsWhatPlanningRejects() {
        tEnv.executeSql("CREATE TEMPORARY MODEL stored INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>) WITH ("
                + GOOD + ", 'max-tokens' = '1000')");
        assertThatThrownBy(() -> tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE events, MODEL stored,"
                + " DESCRIPTOR(text))")).hasRootCauseMessage("'max-tokens' must be between 2 and 512 (got 1000)");
    }

    @Test
    void inputMustBeOneString() {
        assertThat(planningError("n INT", "embedding ARRAY<FLOAT>", GOOD, "n"))
                .contains("text-embedding model input column 'n' must be STRING, got INT");
        assertThat(planningError("text STRING, lang STRING", "embedding ARRAY<FLOAT>", GOOD, "text, lang"))
                .contains("text-embedding model input must be exactly one STRING column (the text); got"
                        + " (text STRING, lang STRING)");
    }

    @Test
    void outputMustBeOneFloatArrayOfTheModelsWidth() {
        assertThat(planningError("text STRING", "embedding ARRAY<DOUBLE>", GOOD, "text"))
                .contains("text-embedding model output column 'embedding' must be ARRAY<FLOAT>, got ARRAY<DOUBLE>");
        assertThat(planningError("text STRING", "embedding ARRAY<FLOAT>, score FLOAT", GOOD, "text"))
                .contains("text-embedding model output must be exactly one ARRAY<FLOAT> column (the embedding); got"
                        + " (embedding ARRAY<FLOAT>, score FLOAT)");
        assertThat(optionError("'dimension' = '256'"))
                .contains("'dimension' is 256 but model 'all-minilm-l6-v2' produces 384-dimensional embeddings");
    }

    private static final String IMAGE = "'provider' = 'inflow', 'task' = 'image-embedding'";
    private static final String CLASSIFY = "'provider' = 'inflow', 'task' = 'text-classification'";
    private static final String SCORER = CLASSIFY + ", 'model' = 'spam-ham-minilm'";

    @Test
    void goodImageAndClassificationModelsPlan() {
        tEnv.executeSql("CREATE TEMPORARY MODEL vit1 INPUT (image BYTES) OUTPUT (embedding ARRAY<FLOAT>) WITH ("
                + IMAGE + ", 'model' = 'vit-fashion-mnist', 'dimension' = '128')");
        tEnv.executeSql("CREATE TEMPORARY MODEL vit3 INPUT (image VARBINARY) OUTPUT (embedding ARRAY<FLOAT>,"
                + " label STRING, score FLOAT) WITH (" + IMAGE + ", 'model' = 'vit-fashion-mnist', 'normalize' ="
                + " 'false', 'max-records' = '8')");
        tEnv.executeSql("CREATE TEMPORARY MODEL spam1 INPUT (text STRING) OUTPUT (label STRING, score FLOAT) WITH ("
                + SCORER + ", 'precision' = 'int8', 'size-budget' = '0.9')");
        assertThat(tEnv.explainSql("SELECT id, embedding FROM ML_PREDICT(TABLE events, MODEL vit1,"
                + " DESCRIPTOR(image))")).contains("ML_PREDICT");
        assertThat(tEnv.explainSql("SELECT id, label, score FROM ML_PREDICT(TABLE events, MODEL vit3,"
                + " DESCRIPTOR(image))")).contains("ML_PREDICT");
        assertThat(tEnv.explainSql("SELECT id, label, score FROM ML_PREDICT(TABLE events, MODEL spam1,"
                + " DESCRIPTOR(text))")).contains("ML_PREDICT");
    }

    @Test
    void imageModelOption() {
        assertThat(planningError("image BYTES", "embedding ARRAY<FLOAT>", IMAGE, "image"))
                .contains("Missing required options for 'task' = 'image-embedding': model ('vit-fashion-mnist')"
                        + " or model-dir");
        assertThat(planningError("image BYTES", "embedding ARRAY<FLOAT>", IMAGE + ", 'model' = 'resnet'", "image"))
                .contains("'model': unknown image model 'resnet'; bundled: vit-fashion-mnist (or set 'model-dir' to"
                        + " a ViT / CLIP-vision directory)");
        assertThat(planningError("image BYTES", "embedding ARRAY<FLOAT>", IMAGE + ", 'model' = 'vit-fashion-mnist',"
                + " 'model-dir' = '/tmp'", "image")).anySatisfy(m -> assertThat(m)
                .startsWith("'model' and 'model-dir' are both set"));
        assertThat(planningError("image BYTES", "embedding ARRAY<FLOAT>", IMAGE + ", 'model-dir' ="
                + " '/no/such/vit'", "image")).anySatisfy(m -> assertThat(m)
                .startsWith("'model-dir' = '/no/such/vit' is not a directory"));
        assertThat(planningError("image BYTES", "embedding ARRAY<FLOAT>", IMAGE + ", 'model' = 'vit-fashion-mnist',"
                + " 'dimension' = '384'", "image"))
                .contains("'dimension' is 384 but model 'vit-fashion-mnist' produces 128-dimensional embeddings");
    }

    @Test
    void imageSchemas() {
        String vit = IMAGE + ", 'model' = 'vit-fashion-mnist'";
        assertThat(planningError("text STRING", "embedding ARRAY<FLOAT>", vit, "text"))
                .contains("image-embedding model input column 'text' must be BYTES, got STRING");
        assertThat(planningError("image BYTES, text STRING", "embedding ARRAY<FLOAT>", vit, "image, text"))
                .contains("image-embedding model input must be exactly one BYTES column (the encoded image); got"
                        + " (image BYTES, text STRING)");
        assertThat(planningError("image BYTES", "embedding ARRAY<FLOAT>, label STRING", vit, "image"))
                .contains("image-embedding model output must be (embedding ARRAY<FLOAT>) or (embedding ARRAY<FLOAT>,"
                        + " label STRING, score FLOAT); got (embedding ARRAY<FLOAT>, label STRING)");
        assertThat(planningError("image BYTES", "v ARRAY<DOUBLE>", vit, "image"))
                .contains("image-embedding model output column 'v' must be ARRAY<FLOAT>, got ARRAY<DOUBLE>");
        assertThat(planningError("image BYTES", "embedding ARRAY<FLOAT>, cls INT, score FLOAT", vit, "image"))
                .contains("image-embedding model output column 'cls' must be STRING, got INT");
        assertThat(planningError("image BYTES", "embedding ARRAY<FLOAT>, label STRING, p DOUBLE", vit, "image"))
                .contains("image-embedding model output column 'p' must be FLOAT, got DOUBLE");
    }

    @Test
    void optionsOfAnotherTask() {
        assertThat(planningError("image BYTES", "embedding ARRAY<FLOAT>", IMAGE + ", 'model' = 'vit-fashion-mnist',"
                + " 'pooling' = 'CLS'", "image")).anySatisfy(m -> assertThat(m)
                .startsWith("'pooling' does not apply to 'task' = 'image-embedding' (its options: model, model-dir,"));
        assertThat(optionError("'precision' = 'int8'")).anySatisfy(m -> assertThat(m)
                .startsWith("'precision' does not apply to 'task' = 'text-embedding'"));
        assertThat(planningError("text STRING", "label STRING, score FLOAT", SCORER + ", 'max-tokens' = '64'",
                "text")).anySatisfy(m -> assertThat(m)
                .startsWith("'max-tokens' does not apply to 'task' = 'text-classification'"));
    }

    @Test
    void classificationOptions() {
        String in = "text STRING";
        String out = "label STRING, score FLOAT";
        assertThat(planningError(in, out, CLASSIFY, "text"))
                .contains("Missing required options for 'task' = 'text-classification': model");
        assertThat(planningError(in, out, CLASSIFY + ", 'model' = 'no-such-scorer'", "text"))
                .anySatisfy(m -> assertThat(m).startsWith("'model': cannot load scorer 'no-such-scorer': 'no-such-scorer'"
                        + " is neither a bundled scorer (spam-ham-minilm) nor a directory"));
        assertThat(planningError(in, out, SCORER + ", 'precision' = 'int4'", "text"))
                .contains("'precision' is 'int4': use float32, int8 or mixed");
        assertThat(planningError(in, out, SCORER + ", 'precision' = 'mixed', 'size-budget' = '0.3'", "text"))
                .contains("'size-budget' is 0.3: use a share of the INT8 layer size in [0.5, 1] (1 keeps every layer"
                        + " at 8 bits)");
        assertThat(planningError(in, out, SCORER + ", 'quantized-model' = '/tmp/m.safetensors'", "text"))
                .contains("'quantized-model' is set but 'precision' is float32: set the precision to int8 or mixed,"
                        + " or drop the file");
    }

    @Test
    void classificationSchemas() {
        assertThat(planningError("n INT", "label STRING, score FLOAT", SCORER, "n"))
                .contains("text-classification model input column 'n' must be STRING, got INT");
        assertThat(planningError("text STRING", "label STRING", SCORER, "text"))
                .contains("text-classification model output must be (label STRING, score FLOAT); got (label STRING)");
        assertThat(planningError("text STRING", "label STRING, score DOUBLE", SCORER, "text"))
                .contains("text-classification model output column 'score' must be FLOAT, got DOUBLE");
    }

    /** A CLIP-vision directory (no classifier): embeddings plan, a label column does not. Weights are not read. */
    @Test
    void modelDirWithoutClassifier(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"clip_vision_model\", \"hidden_size\": 64,"
                + " \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"intermediate_size\": 128,"
                + " \"image_size\": 32, \"patch_size\": 16}");
        Files.write(dir.resolve("model.safetensors"), new byte[0]);
        String options = IMAGE + ", 'model-dir' = '" + dir + "'";
        tEnv.executeSql("CREATE TEMPORARY MODEL clip INPUT (image BYTES) OUTPUT (embedding ARRAY<FLOAT>) WITH ("
                + options + ", 'dimension' = '64')");
        assertThat(tEnv.explainSql("SELECT id, embedding FROM ML_PREDICT(TABLE events, MODEL clip,"
                + " DESCRIPTOR(image))")).contains("ML_PREDICT");
        assertThat(planningError("image BYTES", "embedding ARRAY<FLOAT>, label STRING, score FLOAT", options, "image"))
                .contains("image-embedding model output column 'label' needs a classifier, but model '"
                        + dir.getFileName() + "' has none (no id2label in its config.json): drop the label and score"
                        + " columns");
        Files.delete(dir.resolve("model.safetensors"));
        assertThat(planningError("image BYTES", "embedding ARRAY<FLOAT>", options, "image"))
                .contains("'model-dir' = '" + dir + "' has no model.safetensors");
    }
}
