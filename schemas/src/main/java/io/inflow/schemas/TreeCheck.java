package io.inflow.schemas;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Structural check of a topic tree: unique ids, exactly one root, parents exist, no cycles. */
final class TreeCheck {
    private TreeCheck() {
    }

    /** Returns null when the nodes form one tree, else a message naming the offending node. */
    static String problem(List<TopicTreeRecord.Node> nodes) {
        if (nodes.isEmpty()) {
            return "nodes must not be empty (a tree has a root)";
        }
        Map<Integer, Integer> parentOf = new HashMap<>(nodes.size() * 2);
        int roots = 0;
        for (TopicTreeRecord.Node n : nodes) {
            if (parentOf.put(n.id(), n.parent()) != null) {
                return "node id " + n.id() + " appears more than once";
            }
            if (n.parent() == TopicTreeRecord.NO_PARENT) {
                roots++;
            }
        }
        if (roots != 1) {
            return "a tree has exactly one root (parent -1), found " + roots;
        }
        for (TopicTreeRecord.Node n : nodes) {
            if (n.parent() != TopicTreeRecord.NO_PARENT && !parentOf.containsKey(n.parent())) {
                return "node " + n.id() + " has parent " + n.parent() + ", which is not a node of this tree";
            }
        }
        // With one root and existing parents, a node is on a cycle iff walking up never reaches the root.
        // Every node on a walk that ends at the root (or at a node known to reach it) is marked: linear time.
        Set<Integer> reachesRoot = new HashSet<>(nodes.size() * 2);
        List<Integer> walk = new ArrayList<>();
        for (TopicTreeRecord.Node n : nodes) {
            walk.clear();
            int at = n.id();
            while (at != TopicTreeRecord.NO_PARENT && !reachesRoot.contains(at)) {
                if (walk.size() > nodes.size()) {
                    return "node " + n.id() + " is on a parent cycle";
                }
                walk.add(at);
                at = parentOf.get(at);
            }
            reachesRoot.addAll(walk);
        }
        return null;
    }
}
