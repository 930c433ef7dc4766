package io.inflow.sql;

import io.inflow.gpu.resources.ProcessResources;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.operators.metrics.MetricsEndpoint;
import io.inflow.schemas.ErrorKind;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;

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
 * values or of another width than the model's gets no rows (a bad row never fails the job) and is counted in
 * {@code inflow_dead_letters_total{operator="vector-search",reason="invalid_field"}}.
 *
 * <p>Metrics ({@code operator="vector-search"}, served by the process's Inflow endpoint): queries
 * ({@code inflow_records_in_total}), rows answered ({@code inflow_records_out_total}), search time per query
 * ({@code inflow_compute_seconds}) and the documents of the process's index ({@code inflow_index_documents} with
 * {@code shard="shared"}, {@code index} = the corpus topic).
 *
 * <p>Made by {@link InflowIndexTableSource}: {@code VectorSearchFunctionProvider.of(new IndexSearchFunction(s))}.
 */
public final class IndexSearchFunction extends VectorSearchFunction {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(IndexSearchFunction.class);
    /** The {@code operator} label of the search metrics. */
    public static final String OPERATOR = "vector-search";
    private static final String MODALITY = "text";
    /** The {@code shard} label of {@code inflow_index_documents}: the process's shared index. */
    static final String SHARED_SHARD = "shared";

    private final IndexTableSettings settings;
    private transient ProcessResources.Lease<CorpusFollower> lease;
    private transient Map<Integer, Long> waitFor;
    private transient long badQueries;
    private transient CounterDataPoint queries;
    private transient CounterDataPoint answeredRows;
    private transient CounterDataPoint rejectedQueries;
    private transient DistributionDataPoint searchSeconds;
    private transient GaugeDataPoint documents;
    private transient MetricsEndpoint.Lease endpoint;

    public IndexSearchFunction(IndexTableSettings settings) {
        this.settings = settings;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        lease = ProcessResources.acquire(settings.index(), () -> CorpusFollower.start(settings.index()));
        String job = settings.job();
        String model = settings.index().embedding().spec().model().modelName();
        queries = InflowMetrics.RECORDS_IN.labelValues(job, OPERATOR, MODALITY, model);
        answeredRows = InflowMetrics.RECORDS_OUT.labelValues(job, OPERATOR, MODALITY, model);
        rejectedQueries = InflowMetrics.DEAD_LETTERS.labelValues(job, OPERATOR, MODALITY,
                ErrorKind.INVALID_FIELD.wireName());
        searchSeconds = InflowMetrics.COMPUTE.labelValues(job, OPERATOR, MODALITY, model,
                lease.get().index().backend());
        // one index per TaskManager process, shared by its subtasks: one series per process (Prometheus adds the
        // instance), not per subtask
        documents = InflowMetrics.INDEX_DOCUMENTS.labelValues(job, SHARED_SHARD, settings.index().topic());
        endpoint = MetricsEndpoint.acquire(MetricsEndpoint.Settings.parse(settings.metricsEnabled(),
                settings.metricsPort(), settings.metricsHost()));
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
        queries.inc();
        float[] query = query(queryData, settings.index().dim());
        if (query == null) {
            rejectedQueries.inc();
            return List.of();
        }
        long t0 = System.nanoTime();
        List<CorpusIndex.Hit> hits = follower.index().search(query, topK);
        searchSeconds.observe((System.nanoTime() - t0) / 1e9);
        documents.set(follower.index().documents());
        answeredRows.inc(hits.size());
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
        try {
            if (lease != null) {
                lease.close();
                lease = null;
            }
        } finally {
            if (endpoint != null) {
                endpoint.close();
                endpoint = null;
            }
        }
    }
}
