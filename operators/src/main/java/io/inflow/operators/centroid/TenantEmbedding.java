package io.inflow.operators.centroid;

import io.inflow.schemas.RawRecord;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * An embedding of one event of a tenant, with the raw Kafka record it came from (for its dead letter).
 *
 * <p>{@code new TenantEmbedding("acme", "e-1", embedding, raw)}
 */
public record TenantEmbedding(String tenant, String id, float[] embedding, RawRecord raw) implements Serializable {

    public TenantEmbedding {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(embedding, "embedding");
        Objects.requireNonNull(raw, "raw");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TenantEmbedding t && tenant.equals(t.tenant) && id.equals(t.id)
                && Arrays.equals(embedding, t.embedding) && raw.equals(t.raw);
    }

    @Override
    public int hashCode() {
        return Objects.hash(tenant, id, Arrays.hashCode(embedding), raw);
    }
}
