package io.inflow.operators.topics;

import java.util.Arrays;

/**
 * A key's window, in keyed state: the last {@code capacity} events with the topic path each had in the last tree (so
 * ids stay stable across rebuilds and restores), and the rebuild bookkeeping. A Flink POJO (public fields,
 * no-argument constructor).
 *
 * <p>The events live in a ring: slot arrays that grow by doubling up to {@code capacity} while the window fills, then
 * a new event overwrites the oldest (at {@code head}). Adding an event costs {@code O(dim)}, whatever the capacity.
 * Event {@code i} (0 = oldest) is at slot {@link #slot(int)}. {@link #copy()} gives a compact, oldest-first window
 * ({@code head} 0, arrays of exactly {@code size()} events), the form {@link TopicBuilder} reads.
 *
 * <pre>{@code
 * TopicWindow w = TopicWindow.empty(2000, 384);
 * w.add("ev-1", "a text", embedding, new long[0]);
 * String oldest = w.id(0);
 * }</pre>
 */
public final class TopicWindow {

    /** Slots: the events' ids, texts, vectors ({@code dim} floats a slot) and paths; slots past {@code count} unused. */
    public String[] ids = new String[0];
    public String[] texts = new String[0];
    public float[] vectors = new float[0];
    /** Per event: its topic path (deepest first) in the last tree, or an empty array. */
    public long[][] paths = new long[0][];
    /** Slot of the oldest event (0 until the window is full). */
    public int head;
    /** Events held. */
    public int count;
    public int capacity;
    public int dim;
    /** Tree version of the last rebuild applied (0: none). */
    public long version;
    public long eventsSinceBuild;
    public long lastBuildMs;
    /** Next unused topic id. */
    public long nextTopic = 1;

    public TopicWindow() {
    }

    public static TopicWindow empty(int capacity, int dim) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a topic window holds at least 1 event (was " + capacity + ")");
        }
        TopicWindow w = new TopicWindow();
        w.capacity = capacity;
        w.dim = dim;
        return w;
    }

    public int size() {
        return count;
    }

    /** The slot of event {@code i} (0 = oldest). */
    public int slot(int i) {
        return (head + i) % ids.length;
    }

    public String id(int i) {
        return ids[slot(i)];
    }

    public long[] path(int i) {
        return paths[slot(i)];
    }

    public void setPath(int i, long[] path) {
        paths[slot(i)] = path;
    }

    /** Appends an event; a full window drops its oldest. */
    public void add(String id, String text, float[] embedding, long[] path) {
        int at;
        if (count < capacity) {
            if (count == ids.length) {
                grow(Math.min(capacity, Math.max(16, 2 * ids.length)));
            }
            at = count++; // head stays 0 while the window fills
        } else {
            at = head;
            head = (head + 1) % capacity;
        }
        ids[at] = id;
        texts[at] = text;
        System.arraycopy(embedding, 0, vectors, at * dim, dim);
        paths[at] = path;
        eventsSinceBuild++;
    }

    private void grow(int slots) {
        ids = Arrays.copyOf(ids, slots);
        texts = Arrays.copyOf(texts, slots);
        vectors = Arrays.copyOf(vectors, slots * dim);
        paths = Arrays.copyOf(paths, slots);
    }

    /** A compact, oldest-first copy (for a rebuild on another thread). */
    public TopicWindow copy() {
        TopicWindow w = new TopicWindow();
        int n = count;
        w.ids = new String[n];
        w.texts = new String[n];
        w.vectors = new float[n * dim];
        w.paths = new long[n][];
        for (int i = 0; i < n; i++) {
            int s = slot(i);
            w.ids[i] = ids[s];
            w.texts[i] = texts[s];
            w.paths[i] = paths[s];
            System.arraycopy(vectors, s * dim, w.vectors, i * dim, dim);
        }
        w.count = n;
        w.capacity = capacity;
        w.dim = dim;
        w.version = version;
        w.eventsSinceBuild = eventsSinceBuild;
        w.lastBuildMs = lastBuildMs;
        w.nextTopic = nextTopic;
        return w;
    }

    @Override
    public String toString() {
        return "TopicWindow[" + size() + "/" + capacity + " events, version " + version + ", oldest "
                + (count == 0 ? "-" : id(0)) + "]";
    }
}
