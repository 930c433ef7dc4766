package io.inflow.sql;

import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.VectorSearchTableSource;
import org.apache.flink.table.connector.source.search.VectorSearchFunctionProvider;

import java.util.Arrays;

/**
 * The {@code inflow-index} table as Flink's planner sees it: a {@link VectorSearchTableSource} (no scan: the table
 * can only be searched with {@code VECTOR_SEARCH}) whose runtime is a synchronous {@link IndexSearchFunction}.
 *
 * <pre>{@code
 * SELECT queries.id, doc_id, score FROM queries,
 *     LATERAL TABLE(VECTOR_SEARCH(TABLE docs, DESCRIPTOR(embedding), queries.qv, 10));
 * }</pre>
 */
public final class InflowIndexTableSource implements VectorSearchTableSource {

    private final IndexTableSettings settings;

    public InflowIndexTableSource(IndexTableSettings settings) {
        this.settings = settings;
    }

    /** The validated settings. */
    public IndexTableSettings settings() {
        return settings;
    }

    @Override
    public VectorSearchRuntimeProvider getSearchRuntimeProvider(VectorSearchContext context) {
        int[][] columns = context.getSearchColumns();
        if (columns.length != 1 || columns[0].length != 1 || columns[0][0] != settings.embeddingColumn()) {
            throw new ValidationException("VECTOR_SEARCH over an inflow-index table searches its ARRAY<FLOAT> column"
                    + " (position " + settings.embeddingColumn() + "); the query names " + Arrays.deepToString(columns));
        }
        return VectorSearchFunctionProvider.of(new IndexSearchFunction(settings));
    }

    @Override
    public DynamicTableSource copy() {
        return new InflowIndexTableSource(settings);
    }

    @Override
    public String asSummaryString() {
        return "inflow-index(" + settings.index() + ")";
    }
}
