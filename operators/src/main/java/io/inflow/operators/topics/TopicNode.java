package io.inflow.operators.topics;

import java.util.List;

/**
 * One node of a topic-tree snapshot: a cluster of the condensed density tree under its stable topic id.
 *
 * <p>{@code node.parent() < 0 ? "root" : node.topic() + " in " + node.parent()}
 *
 * @param topic stable id
 * @param parent the enclosing (more diffuse) topic; -1 for the root
 * @param radius the distance at which it splits off its parent (its density level is {@code 1 / radius}); 0 for the
 *     root
 * @param size window events in it when it splits off
 * @param stability HDBSCAN's cluster stability
 * @param selected whether it is a flat topic (events are labelled with it)
 * @param representativeIds ids of its densest members
 * @param representativeTexts their texts
 */
public record TopicNode(long topic, long parent, double radius, int size, double stability, boolean selected,
        List<String> representativeIds, List<String> representativeTexts) {
}
