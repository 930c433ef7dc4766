package io.inflow.operators.topics;

import java.util.Arrays;

/**
 * A key's window, in keyed state: the last {@code capacity} events (oldest first) with the topic path each had in the
 * last tree (so ids stay stable across rebuilds and restores), and the rebuild bookkeeping. A Flink POJO (public
 * fields, no-argument constructor).
 *
 * <pre>{@code
 * TopicWindow w = TopicWindow.empty(2000, 384);
 * w.add("ev-1", "a text", embedding);
 * }</pre>
 */
public final class TopicWindow {

    public String[] ids = new String[0];
    public String[] texts = new String[0];
    /** {@code size() x dim} floats, oldest first. */
    public float[] vectors = new float[0];
    /** Per event: its topic path (deepest first) in the last tree, or an empty array. */
    public long[][] paths = new long[0][];
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
        TopicWindow w = new TopicWindow();
        w.capacity = capacity;
        w.dim = dim;
        return w;
    }

    public int size() {
        return ids.length;
    }

    /** Appends an event, dropping the oldest beyond the capacity. */
    public void add(String id, String text, float[] embedding, long[] path) {
        int keep = Math.min(size(), capacity - 1);
        int drop = size() - keep;
        String[] newIds = new String[keep + 1];
        String[] newTexts = new String[keep + 1];
        float[] newVectors = new float[(keep + 1) * dim];
        long[][] newPaths = new long[keep + 1][];
        System.arraycopy(ids, drop, newIds, 0, keep);
        System.arraycopy(texts, drop, newTexts, 0, keep);
        System.arraycopy(vectors, drop * dim, newVectors, 0, keep * dim);
        System.arraycopy(paths, drop, newPaths, 0, keep);
        newIds[keep] = id;
        newTexts[keep] = text;
        System.arraycopy(embedding, 0, newVectors, keep * dim, dim);
        newPaths[keep] = path;
        ids = newIds;
        texts = newTexts;
        vectors = newVectors;
        paths = newPaths;
        eventsSinceBuild++;
    }

    /** A copy for a rebuild on another thread. */
    public TopicWindow copy() {
        TopicWindow w = new TopicWindow();
        w.ids = ids.clone();
        w.texts = texts.clone();
        w.vectors = vectors.clone();
        w.paths = paths.clone();
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
        return "TopicWindow[" + size() + "/" + capacity + " events, version " + version + ", ids "
                + Arrays.toString(Arrays.copyOf(ids, Math.min(3, ids.length))) + "...]";
    }
}
