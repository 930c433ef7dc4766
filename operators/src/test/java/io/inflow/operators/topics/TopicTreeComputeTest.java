package io.inflow.operators.topics;

import io.inflow.gpu.cluster.ClusterMetric;
import io.inflow.gpu.cluster.HdbscanParams;
import io.inflow.operators.batch.BatchOperatorFactory;
import io.inflow.operators.batch.BatchSettings;
import io.inflow.schemas.RawRecord;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The topic tree under Flink's keyed harness: three well-separated groups of events per key, a rebuild every 150
 * events, snapshots on the side output. Checks that events are assigned at once once a tree exists (same group, same
 * topic; groups apart), that topic ids stay the same across a rebuild of the same distribution and across a snapshot
 * and restore, that a new group is recorded as a born topic, and that keys do not share trees.
 */
@Timeout(120)
class TopicTreeComputeTest {

    private static final int DIM = 8;
    private static final int REBUILD_EVERY = 150;
    private static final int MAX_PARALLELISM = 128;

    private static KeyedOneInputStreamOperatorTestHarness<String, TopicEvent, TopicAssignment> harness()
            throws Exception {
        return harness(MAX_PARALLELISM, 1, 0);
    }

    /** Subtask {@code index} of {@code parallelism}, key groups as Flink assigns them. */
    private static KeyedOneInputStreamOperatorTestHarness<String, TopicEvent, TopicAssignment> harness(
            int maxParallelism, int parallelism, int index) throws Exception {
        TopicSettings settings = new TopicSettings(300, REBUILD_EVERY, Duration.ofHours(1),
                new HdbscanParams(5, 15, ClusterMetric.L2, HdbscanParams.Selection.EOM), 0, DIM, 2);
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new BatchOperatorFactory<>(new TopicTreeCompute(settings, 16, 1),
                        new BatchSettings(Duration.ofMillis(50), 2, "topics", "text")),
                TopicEvent::key, Types.STRING, maxParallelism, parallelism, index);
        h.setProcessingTime(0);
        return h;
    }

    /** Group {@code g}'s centre: 10 along axis g. */
    private static StreamRecord<TopicEvent> event(String key, String id, int group, Random rnd) {
        float[] v = new float[DIM];
        for (int k = 0; k < DIM; k++) {
            v[k] = (float) (rnd.nextGaussian() * 0.3 + (k == group ? 10 : 0));
        }
        return new StreamRecord<>(new TopicEvent(key, id, "group " + group, v,
                new RawRecord("events.text", 0, id.hashCode() & 0xffff, 1, null, id.getBytes())), 1);
    }

    private static void feed(KeyedOneInputStreamOperatorTestHarness<String, TopicEvent, TopicAssignment> h,
            String key, String prefix, int count, int groups, Random rnd) throws Exception {
        for (int i = 0; i < count; i++) {
            h.processElement(event(key, prefix + i + "-g" + (i % groups), i % groups, rnd));
        }
    }

    /** Runs mails until {@code done} holds (results and rebuilds come back through the mailbox). */
    private static void runUntil(KeyedOneInputStreamOperatorTestHarness<String, TopicEvent, TopicAssignment> h,
            BooleanSupplier done, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!done.getAsBoolean()) {
            Optional<Mail> mail = h.getTaskMailbox().tryTake(TaskMailbox.MIN_PRIORITY);
            if (mail.isPresent()) {
                mail.get().run();
            } else if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            } else {
                h.setProcessingTime(h.getProcessingTime() + 50); // flush partial batches
                Thread.sleep(1);
            }
        }
    }

    private static List<TopicTreeSnapshot> snapshots(
            KeyedOneInputStreamOperatorTestHarness<String, TopicEvent, TopicAssignment> h) {
        var out = h.getSideOutput(TopicTreeCompute.SNAPSHOTS);
        return out == null ? List.of() : out.stream().map(StreamRecord::getValue).toList();
    }

    private static Set<Long> flatTopics(TopicTreeSnapshot s) {
        return s.nodes().stream().filter(TopicNode::selected).map(TopicNode::topic).collect(Collectors.toSet());
    }

    /** Topic of each group among the given assignments (every assignment of a group must agree). */
    private static Map<Integer, Long> topicOfGroup(List<TopicAssignment> assigned) {
        Map<Integer, Long> out = new HashMap<>();
        for (TopicAssignment a : assigned) {
            int g = Integer.parseInt(a.id().substring(a.id().lastIndexOf("-g") + 2));
            Long before = out.putIfAbsent(g, a.topic());
            assertThat(a.topic()).as("%s: same group, same topic", a.id()).isEqualTo(before == null ? a.topic()
                    : before);
        }
        return out;
    }

    @Test
    void eventsJoinTheirGroupsTopicAndIdsSurviveRebuilds() throws Exception {
        Random rnd = new Random(1);
        try (var h = harness()) {
            h.open();
            feed(h, "acme|text", "a", REBUILD_EVERY, 3, rnd);
            runUntil(h, () -> snapshots(h).size() == 1, "the first tree");
            List<TopicAssignment> first = h.extractOutputValues();
            assertThat(first).as("before the first tree: no topic").hasSize(REBUILD_EVERY)
                    .allSatisfy(a -> assertThat(a.path()).isEmpty());
            TopicTreeSnapshot v1 = snapshots(h).get(0);
            assertThat(v1.version()).isEqualTo(1);
            assertThat(v1.key()).isEqualTo("acme|text");
            assertThat(flatTopics(v1)).as("three groups, three flat topics").hasSize(3);
            assertThat(v1.nodes().get(0).parent()).as("root first").isEqualTo(-1);
            assertThat(v1.nodes()).allSatisfy(n -> assertThat(n.representativeTexts()).isNotEmpty());

            feed(h, "acme|text", "b", 60, 3, rnd);
            runUntil(h, () -> h.extractOutputValues().size() == REBUILD_EVERY + 60, "assignments");
            List<TopicAssignment> assigned = h.extractOutputValues().subList(REBUILD_EVERY, REBUILD_EVERY + 60);
            Map<Integer, Long> groups = topicOfGroup(assigned);
            assertThat(Set.copyOf(groups.values())).as("each group its own flat topic of the tree")
                    .isEqualTo(flatTopics(v1));
            long root = v1.nodes().get(0).topic();
            assertThat(assigned).allSatisfy(a -> {
                assertThat(a.treeVersion()).isEqualTo(1);
                assertThat(a.path().get(a.path().size() - 1)).as("path ends at the root").isEqualTo(root);
            });

            feed(h, "acme|text", "c", REBUILD_EVERY - 60, 3, rnd); // the second rebuild: same distribution
            runUntil(h, () -> snapshots(h).size() == 2, "the second tree");
            TopicTreeSnapshot v2 = snapshots(h).get(1);
            assertThat(v2.version()).isEqualTo(2);
            assertThat(flatTopics(v2)).as("same groups, same topic ids").isEqualTo(flatTopics(v1));
            assertThat(v2.changes()).as("nothing born or died").noneMatch(c -> flatTopics(v2).contains(c.topic()));
        }
    }

    @Test
    void topicIdsSurviveSnapshotAndRestoreAndANewGroupIsBorn() throws Exception {
        Random rnd = new Random(2);
        OperatorSubtaskState state;
        Set<Long> before;
        try (var h = harness()) {
            h.open();
            feed(h, "acme|text", "a", REBUILD_EVERY, 3, rnd);
            runUntil(h, () -> snapshots(h).size() == 1, "the first tree");
            before = flatTopics(snapshots(h).get(0));
            state = h.snapshot(1, 1);
        }
        try (var h = harness()) {
            h.initializeState(state);
            h.open();
            feed(h, "acme|text", "r", 30, 3, rnd);
            runUntil(h, () -> h.extractOutputValues().size() == 30, "assignments after the restore");
            Map<Integer, Long> groups = topicOfGroup(h.extractOutputValues());
            assertThat(Set.copyOf(groups.values())).as("the restored tree assigns at once, with the same ids")
                    .isEqualTo(before);
            // a fourth group appears: at the next rebuild it is a new topic, recorded as born
            for (int i = 0; i < REBUILD_EVERY - 30; i++) {
                h.processElement(event("acme|text", "n" + i + "-g3", 3, rnd));
            }
            runUntil(h, () -> snapshots(h).size() == 1, "the tree after the restore");
            TopicTreeSnapshot v2 = snapshots(h).get(0);
            assertThat(v2.version()).isEqualTo(2);
            assertThat(flatTopics(v2)).as("the three topics live on, one more").containsAll(before).hasSize(4);
            long born = flatTopics(v2).stream().filter(t -> !before.contains(t)).findFirst().orElseThrow();
            assertThat(v2.changes()).anySatisfy(c -> {
                assertThat(c.topic()).isEqualTo(born);
                assertThat(c.kind()).isIn("born", "split");
            });
        }
    }

    @Test
    void keysHaveTheirOwnTrees() throws Exception {
        Random rnd = new Random(3);
        try (var h = harness()) {
            h.open();
            feed(h, "acme|text", "a", REBUILD_EVERY, 3, rnd);
            feed(h, "zeta|text", "z", REBUILD_EVERY, 2, rnd);
            runUntil(h, () -> snapshots(h).size() == 2, "both trees");
            Map<String, TopicTreeSnapshot> byKey = snapshots(h).stream()
                    .collect(Collectors.toMap(TopicTreeSnapshot::key, s -> s));
            assertThat(flatTopics(byKey.get("acme|text"))).hasSize(3);
            assertThat(flatTopics(byKey.get("zeta|text"))).hasSize(2);
            assertThat(byKey.get("zeta|text").windowSize()).isEqualTo(REBUILD_EVERY);
        }
    }

    /**
     * Rescaling: six tenants' windows built at parallelism 2, the two snapshots repartitioned by key group to 3
     * subtasks and to 1 (as Flink does on a rescale from a savepoint). Every tenant's tree lands with the subtask that
     * owns its key and assigns at once with the ids it had. Negative control: a subtask given none of the state sees
     * no tree (its first events wait for a rebuild, and their ids are new).
     */
    @Test
    void windowsFollowTheirKeysWhenTheJobIsRescaled() throws Exception {
        Random rnd = new Random(4);
        List<String> keys = List.of("t0|text", "t1|text", "t2|text", "t3|text", "t4|text", "t5|text");
        Map<String, Set<Long>> before = new HashMap<>();
        OperatorSubtaskState[] states = new OperatorSubtaskState[2];
        for (int sub = 0; sub < 2; sub++) {
            try (var h = harness(MAX_PARALLELISM, 2, sub)) {
                h.open();
                List<String> mine = owned(keys, 2, sub);
                for (String key : mine) {
                    feed(h, key, "a", REBUILD_EVERY, 3, rnd);
                }
                runUntil(h, () -> snapshots(h).size() == mine.size(), "subtask's trees");
                for (TopicTreeSnapshot s : snapshots(h)) {
                    before.put(s.key(), flatTopics(s));
                }
                states[sub] = h.snapshot(1, 1);
            }
        }
        assertThat(before).as("every tenant built a tree at parallelism 2").hasSize(keys.size());
        assertThat(owned(keys, 2, 0)).as("the case spreads keys over both subtasks").isNotEmpty()
                .hasSizeLessThan(keys.size());
        OperatorSubtaskState packed = AbstractStreamOperatorTestHarness.repackageState(states);
        for (int parallelism : new int[] {3, 1}) {
            for (int sub = 0; sub < parallelism; sub++) {
                List<String> mine = owned(keys, parallelism, sub);
                try (var h = harness(MAX_PARALLELISM, parallelism, sub)) {
                    h.initializeState(AbstractStreamOperatorTestHarness.repartitionOperatorState(packed,
                            MAX_PARALLELISM, 2, parallelism, sub));
                    h.open();
                    for (String key : mine) {
                        feed(h, key, "r" + parallelism, 30, 3, rnd);
                    }
                    runUntil(h, () -> h.extractOutputValues().size() == 30 * mine.size(), "assignments");
                    for (String key : mine) {
                        List<TopicAssignment> ofKey = h.extractOutputValues().stream()
                                .filter(a -> a.key().equals(key)).toList();
                        assertThat(Set.copyOf(topicOfGroup(ofKey).values()))
                                .as("%s at parallelism %d, subtask %d: restored tree, same ids", key, parallelism,
                                        sub).isEqualTo(before.get(key));
                    }
                }
            }
        }
        // negative control: the same events on a subtask restored from nothing get no topic from a tree
        try (var h = harness(MAX_PARALLELISM, 1, 0)) {
            h.open();
            feed(h, "t0|text", "x", 30, 3, rnd);
            runUntil(h, () -> h.extractOutputValues().size() == 30, "assignments without state");
            assertThat(h.extractOutputValues()).as("no tree without the restored window")
                    .allSatisfy(a -> assertThat(before.get("t0|text")).doesNotContain(a.topic()));
        }
    }

    private static List<String> owned(List<String> keys, int parallelism, int subtask) {
        return keys.stream().filter(k -> KeyGroupRangeAssignment.assignKeyToParallelOperator(k, MAX_PARALLELISM,
                parallelism) == subtask).toList();
    }
}
