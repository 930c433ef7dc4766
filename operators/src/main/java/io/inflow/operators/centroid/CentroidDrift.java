package io.inflow.operators.centroid;

import java.io.Serializable;

/**
 * How far an event's embedding lies from its tenant's running centroid, before the event joins it.
 *
 * <p>{@code CentroidDrift d = ...; if (d.drift() > 0.5) alert(d.tenant(), d.id());}
 *
 * @param tenant the tenant
 * @param id the event
 * @param seen events of the tenant including this one
 * @param drift {@code 1 - cos(embedding, centroid of the earlier events)}: 0 for the first event (no centroid yet),
 *     up to 2 for the opposite direction
 */
public record CentroidDrift(String tenant, String id, long seen, double drift) implements Serializable {
}
