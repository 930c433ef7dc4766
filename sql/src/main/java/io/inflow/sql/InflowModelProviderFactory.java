package io.inflow.sql;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.ml.ModelProvider;

import java.util.Set;

/**
 * Flink SQL model provider {@code 'provider' = 'inflow'}: runs Inflow's encoders inside the TaskManager (CPU by
 * default, CUDA by option), batching rows across {@code ML_PREDICT} calls. Found through
 * {@code META-INF/services/org.apache.flink.table.factories.Factory}; the planner calls it when it resolves
 * {@code ML_PREDICT}, so a bad option fails the query's planning with a message naming the option.
 *
 * <pre>{@code
 * CREATE MODEL embedder INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>)
 * WITH ('provider' = 'inflow', 'task' = 'text-embedding', 'model' = 'all-minilm-l6-v2');
 * SELECT id, embedding FROM ML_PREDICT(TABLE events, MODEL embedder, DESCRIPTOR(text));
 *
 * CREATE MODEL vit INPUT (image BYTES) OUTPUT (embedding ARRAY<FLOAT>, label STRING, score FLOAT)
 * WITH ('provider' = 'inflow', 'task' = 'image-embedding', 'model' = 'vit-fashion-mnist');
 * CREATE MODEL spam INPUT (text STRING) OUTPUT (label STRING, score FLOAT)
 * WITH ('provider' = 'inflow', 'task' = 'text-classification', 'model' = 'spam-ham-minilm');
 * }</pre>
 *
 * <p>Tasks: {@link EmbeddingModelSettings}, {@link ImageModelSettings}, {@link ClassificationModelSettings}.
 */
public final class InflowModelProviderFactory implements ModelProviderFactory {

    public static final String IDENTIFIER = "inflow";

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(InflowModelOptions.TASK);
    }

    /** Every task's options; which apply to which task is checked by the task's settings. */
    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.copyOf(ModelChecks.TASK_OPTIONS);
    }

    @Override
    public ModelProvider createModelProvider(Context context) {
        FactoryUtil.ModelProviderFactoryHelper helper = FactoryUtil.createModelProviderFactoryHelper(this, context);
        helper.validate(); // missing required and unknown keys, in Flink's words
        ReadableConfig session = context.getConfiguration();
        String job = session.getOptional(PipelineOptions.NAME)
                .orElse("sql:" + context.getObjectIdentifier().asSummaryString());
        ModelSettings settings = ModelSettings.from(helper.getOptions(),
                context.getCatalogModel().getResolvedInputSchema(), context.getCatalogModel().getResolvedOutputSchema(),
                session, job);
        return new InflowModelProvider(settings, session.get(InflowModelProvider.sessionInFlightOption()));
    }
}
