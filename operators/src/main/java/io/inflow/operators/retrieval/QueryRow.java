package io.inflow.operators.retrieval;

import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RawRecord;

/**
 * An embedded event on its way to the index shards: its vector, its filter value (e.g. its tenant) and what the
 * merge needs to build the enriched output (the event without neighbours and its raw record). Broadcast to every
 * shard; the shards' partial answers meet again under {@link #key()}.
 *
 * <p>{@code QueryRow q = new QueryRow(vector, "tenant-a", event, raw); q.key();  // "events.text-0-1523"}
 *
 * @param vector the query embedding
 * @param filterValue only documents with this filter value match; null: all documents
 * @param event the enriched event as the embedding built it (neighbours are added by the merge)
 * @param raw the input record (its coordinates key the query; dead letters carry it)
 * @param tokens the query's per-token vectors for MaxSim rerank ({@code [n, tokenDim]}), or null without rerank
 */
public record QueryRow(float[] vector, String filterValue, EnrichedEvent event, RawRecord raw, float[] tokens) {

    public QueryRow(float[] vector, String filterValue, EnrichedEvent event, RawRecord raw) {
        this(vector, filterValue, event, raw, null);
    }

    /** A key unique per input record: topic, partition and offset. */
    public String key() {
        return key(raw);
    }

    /** The key of the query from {@code raw}. */
    public static String key(RawRecord raw) {
        return raw.topic() + "-" + raw.partition() + "-" + raw.offset();
    }
}
