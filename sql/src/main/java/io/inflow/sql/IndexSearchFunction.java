package io.inflow.sql;

import io.inflow.gpu.resources.ProcessResources;
import io.inflow.gpu.retrieval.SearchRequest;

import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.utils.JoinedRowData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.VectorSearchFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * {@code VECTOR_SEARCH} over an {@code inflow-index} table: each call searches the TaskManager's shared index of the
 * corpus topic ({@link CorpusFollower}, {@link CorpusIndex}) and answers the {@code topK} best documents, best first,
 * as the table's row (doc_id, the stored embedding, the text) followed by Flink's {@code score} (DOUBLE: the index's
 * score: cosine, inner product or the negated squared L2 distance).
 *
 * <p>With {@code 'wait-for-corpus' = 'true'} the first search of a subtask waits until the index has applied the
 * corpus topic up to the end offsets it had when the subtask opened. A NULL query, one with NULL or non-finite
 * values or of another width than the model's gets no rows (a bad row never fails the job).
 *
 * <p>Made by {@link InflowIndexTableSource}: {@code VectorSearchFunctionProvider.of(new IndexSearchFunction(s))}.
 */
public final class IndexSearchFunction extends VectorSearchFunction {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(IndexSearchFunction.class);

    private final IndexTableSettings settings;
    private transient ProcessResources.Lease<CorpusFollower> lease;
    private transient Map<Integer, Long> waitFor;
    private transient long badQueries;

    public IndexSearchFunction(IndexTableSettings settings) {
        this.settings = settings;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        lease = ProcessResources.acquire(settings.index(), () -> CorpusFollower.start(settings.index()));
        if (settings.waitForCorpus()) {
            waitFor = lease.get().endOffsetsNow();
            LOG.info("VECTOR_SEARCH: the first search waits for {} up to end offsets {}", settings.index(), waitFor);
        }
    }

    @Override
    public Collection<RowData> vectorSearch(int topK, RowData queryData) throws IOException {
        if (topK > SearchRequest.MAX_K) {
            throw new IllegalArgumentException("VECTOR_SEARCH over an inflow-index table supports top_k up to "
                    + SearchRequest.MAX_K + " (requested " + topK + ")");
        }
        CorpusFollower follower = lease.get();
        if (waitFor != null) {
            try {
                follower.awaitApplied(waitFor, settings.waitTimeout());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the corpus", e);
            }
            waitFor = null;
            LOG.info("VECTOR_SEARCH: corpus applied, {} documents", follower.index().documents());
        }
        follower.checkHealthy();
        float[] query = query(queryData, settings.index().dim());
        if (query == null) {
            return List.of();
        }
        List<CorpusIndex.Hit> hits = follower.index().search(query, topK);
        List<RowData> rows = new ArrayList<>(hits.size());
        for (CorpusIndex.Hit h : hits) {
            GenericRowData row = new GenericRowData(settings.columns());
            row.setField(settings.docIdColumn(), StringData.fromString(h.docId()));
            row.setField(settings.embeddingColumn(), new GenericArrayData(h.vector()));
            if (settings.textColumn() >= 0) {
                row.setField(settings.textColumn(), h.text() == null ? null : StringData.fromString(h.text()));
            }
            rows.add(new JoinedRowData(row, GenericRowData.of((double) h.score())));
        }
        return rows;
    }

    /** The query vector, or null (logged) when the row has none the index can search with. */
    private float[] query(RowData queryData, int dim) {
        String problem = null;
        float[] v = null;
        if (queryData == null || queryData.isNullAt(0)) {
            problem = "NULL query vector";
        } else {
            ArrayData a = queryData.getArray(0);
            if (a.size() != dim) {
                problem = "query vector has " + a.size() + " values, the index holds " + dim;
            } else {
                v = new float[dim];
                for (int i = 0; i < dim && problem == null; i++) {
                    if (a.isNullAt(i) || !Float.isFinite(a.getFloat(i))) {
                        problem = "query vector value " + i + " is NULL or not finite";
                    } else {
                        v[i] = a.getFloat(i);
                    }
                }
            }
        }
        if (problem != null) {
            if (badQueries++ < 10) {
                LOG.warn("VECTOR_SEARCH: {}: no rows for this query", problem);
            }
            return null;
        }
        return v;
    }

    @Override
    public void close() throws Exception {
        if (lease != null) {
            lease.close();
            lease = null;
        }
    }
}
