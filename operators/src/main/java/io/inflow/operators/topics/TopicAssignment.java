package io.inflow.operators.topics;

import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RawRecord;

import java.util.List;

/**
 * Where an event landed in its key's current topic tree, at once on arrival (the tree is not rebuilt for it).
 *
 * <p>{@code a.topic() < 0 ? "noise" : "topic " + a.topic() + " path " + a.path()}
 *
 * @param key tenant and modality
 * @param id the event's id
 * @param topic the flat topic (a selected cluster's stable id); -1 for noise or while no tree is built yet
 * @param path stable topic ids from the deepest topic it joins up to the root; empty while no tree is built yet
 * @param treeVersion the tree it was assigned to (0: none yet)
 * @param density the density at which it joins ({@code 1 / mutual-reachability distance}); 0 without a tree
 * @param event the event's enriched event, passed through (may be null)
 * @param raw the event's Kafka record, passed through (may be null)
 */
public record TopicAssignment(String key, String id, long topic, List<Long> path, long treeVersion, double density,
        EnrichedEvent event, RawRecord raw) {

    /** The assignment of {@code e} (its enriched event and raw record passed through). */
    static TopicAssignment of(TopicEvent e, long topic, List<Long> path, long treeVersion, double density) {
        return new TopicAssignment(e.key(), e.id(), topic, path, treeVersion, density, e.event(), e.raw());
    }

    public boolean noise() {
        return topic < 0;
    }
}
