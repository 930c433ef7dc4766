package io.inflow.operators.topics;

import java.util.List;

/**
 * How a rebuild changed the topics: {@code born} (a new topic), {@code split} (a new topic cut from an existing one),
 * {@code merged} (a new topic made of several earlier ones), {@code died} (an earlier topic matched by no new one).
 *
 * <p>{@code new TopicChange("split", 12, List.of(4L))}
 *
 * @param kind born, split, merged or died
 * @param topic the topic born, split off, merged into, or died
 * @param from the earlier topics it came from (for died: empty)
 */
public record TopicChange(String kind, long topic, List<Long> from) {
}
