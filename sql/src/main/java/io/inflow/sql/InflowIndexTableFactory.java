package io.inflow.sql;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.FactoryUtil;

import java.util.Set;

/**
 * Flink SQL connector {@code 'connector' = 'inflow-index'}: a table searched with {@code VECTOR_SEARCH}, held in
 * each TaskManager as the DataStream retrieval operator's index and fed from the compacted corpus topic (read from
 * the beginning, then followed). Found through {@code META-INF/services/org.apache.flink.table.factories.Factory};
 * the planner calls it when it plans a query on the table, so a bad option or column fails the query's planning
 * with a message naming it.
 *
 * <pre>{@code
 * CREATE TABLE docs (doc_id STRING, embedding ARRAY<FLOAT>, text STRING) WITH ('connector' = 'inflow-index',
 *     'topic' = 'corpus', 'properties.bootstrap.servers' = 'kafka-1:9092');
 * SELECT queries.id, doc_id, score FROM queries,
 *     LATERAL TABLE(VECTOR_SEARCH(TABLE docs, DESCRIPTOR(embedding), queries.qv, 10));
 * }</pre>
 */
public final class InflowIndexTableFactory implements DynamicTableSourceFactory {

    public static final String IDENTIFIER = "inflow-index";

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(InflowIndexOptions.TOPIC, InflowIndexOptions.BOOTSTRAP_SERVERS);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of(InflowIndexOptions.MODEL, InflowIndexOptions.METRIC, InflowIndexOptions.STORAGE,
                InflowIndexOptions.CHUNK_ROWS, InflowIndexOptions.MAX_TOKENS, InflowIndexOptions.BACKEND,
                InflowIndexOptions.DIMENSION, InflowIndexOptions.WAIT_FOR_CORPUS, InflowIndexOptions.WAIT_TIMEOUT);
    }

    @Override
    public DynamicTableSource createDynamicTableSource(Context context) {
        FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, context);
        helper.validateExcept(InflowIndexOptions.PROPERTIES_PREFIX); // missing and unknown keys, in Flink's words
        IndexTableSettings settings = IndexTableSettings.from(helper.getOptions(),
                context.getCatalogTable().getOptions(), context.getCatalogTable().getResolvedSchema(),
                context.getConfiguration(), context.getConfiguration().getOptional(PipelineOptions.NAME)
                        .orElse("sql:" + context.getObjectIdentifier().asSummaryString()));
        return new InflowIndexTableSource(settings);
    }
}
