package io.inflow.schemas;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An enriched event on topic {@code enriched}: the input's id and attributes, where it came from, which model
 * ran, and the results. Optional components are null when absent ({@code tokenCount}, {@code embeddingDim},
 * {@code embedding}, {@code embeddingF16Base64}, {@code index}, {@code topic}); {@code scores}, {@code attributes}
 * and {@code neighbours} are never null and are omitted on the wire when empty. At most one of {@code embedding} (float32) and {@code embeddingF16Base64}
 * (little-endian float16, see {@link Float16}) is set; when {@code embeddingDim} is set it equals the
 * embedding's length. The {@code embedding} array is not copied: do not modify it after construction.
 * {@code equals} and {@code hashCode} compare the array by content.
 *
 * <p>Retrieval results: {@code neighbours} (never null; empty when retrieval is off, and then omitted on the
 * wire) holds the nearest corpus documents best first, ranks 1..n; {@code index} (null when absent) describes the
 * index they were found in. The 12-argument constructor leaves both absent; {@link #withRetrieval} adds them.
 *
 * <p>Topic: {@code topic} (null when absent, i.e. topic assignment is off) says where the event landed in its
 * tenant's density tree (topic {@code topics}, see {@link TopicTreeRecord}) on arrival: a member of flat topic
 * {@code id}, noise ({@code id} null), or no tree yet (empty {@code path}, {@code treeVersion} 0); see
 * {@link TopicRef}. The 12- and 14-argument constructors leave it absent; {@link #withTopic} sets it, and
 * {@link #withRetrieval} keeps it.
 *
 * <p>Scorer: {@code scorer} (null when absent) names the scorer model (encoder + classification head) whose
 * class probabilities are in {@code scores}, and the precision it ran at ({@link ScorerRef}); image events carry
 * their classifier's scores without a scorer (the classes come from {@code model} itself). The constructors up
 * to 15 arguments leave it absent; {@link #withScores} sets it.
 *
 * <p>{@code
 * EnrichedEvent out = new EnrichedEvent(in.id(), "text", source, new ModelRef("all-minilm-l6-v2", "1"),
 *         12, false, 384, vector, null, List.of(), in.attributes(), System.currentTimeMillis());
 * byte[] wire = RecordCodec.encode(out);
 * EnrichedEvent withDocs = out.withRetrieval(List.of(new EnrichedEvent.Neighbour("doc-42", 0.83, 1)),
 *         new EnrichedEvent.IndexState(EnrichedEvent.IndexState.COSINE, 1200,
 *                 List.of(new EnrichedEvent.ShardState(0, 1200, Map.of(0, 1523L, 1, 1490L)))));
 * EnrichedEvent member = out.withTopic(new EnrichedEvent.TopicRef(12, List.of(12, 4, 1), 3)); // topic 12 of tree 3
 * EnrichedEvent noise = out.withTopic(new EnrichedEvent.TopicRef(null, List.of(4, 1), 3));    // noise under node 4
 * EnrichedEvent early = out.withTopic(new EnrichedEvent.TopicRef(null, List.of(), 0));        // no tree yet
 * }
 *
 * <p>New optional components are added here (and in the schema, README and codec) without a version bump;
 * readers of version 1 ignore fields they do not know.
 */
public record EnrichedEvent(String id, String inputType, SourceRef source, ModelRef model, Integer tokenCount,
                            boolean truncated, Integer embeddingDim, float[] embedding, String embeddingF16Base64,
                            List<Score> scores, Map<String, String> attributes, long processedAt,
                            List<Neighbour> neighbours, IndexState index, TopicRef topic, ScorerRef scorer) {

    /** {@code inputType} of an event that came from a {@link TextEvent}. */
    public static final String INPUT_TEXT = "text";
    /** {@code inputType} of an event that came from an {@link ImageEvent}. */
    public static final String INPUT_IMAGE = "image";
    /** Most {@code neighbours} on one event: the largest k a search accepts (FAISS's GPU limit). */
    public static final int MAX_NEIGHBOURS = 2048;
    /** Most entries in a {@link TopicRef#path()}: deeper trees than this are not expected from the clustering. */
    public static final int MAX_TOPIC_PATH = 1000;

    /**
     * One class score, e.g. from an image classifier: {@code {"label":"sneaker","score":0.93}}.
     * The score must be finite.
     */
    public record Score(String label, double score) {
        public Score {
            Copies.requireNonEmpty(label, "label");
            if (!Double.isFinite(score)) {
                throw new IllegalArgumentException("score of '" + label + "' must be finite (got " + score + ")");
            }
        }
    }

    /**
     * One retrieved corpus document: {@code {"doc_id":"doc-42","score":0.83,"rank":1}}. Rank 1 is the best.
     * Higher scores are better for every metric: {@code inner_product} and {@code cosine} give the similarity
     * itself, and for {@code l2} the score is the squared Euclidean distance negated ({@code -|q - d|^2}, so the
     * distance is {@code -score}). {@code docId} is not empty, the score is finite, the rank is >= 1.
     */
    public record Neighbour(String docId, double score, int rank) {
        public Neighbour {
            Copies.requireNonEmpty(docId, "docId");
            if (!Double.isFinite(score)) {
                throw new IllegalArgumentException("score of neighbour '" + docId + "' must be finite (got " + score
                        + ")");
            }
            if (rank < 1) {
                throw new IllegalArgumentException("rank of neighbour '" + docId + "' must be >= 1 (got " + rank + ")");
            }
        }
    }

    /**
     * The index the neighbours were found in: its {@code metric} ({@link #INNER_PRODUCT}, {@link #COSINE} or
     * {@link #L2}), the live {@code documents} searched over all shards (>= 0), and the state of each shard,
     * distinct shard indexes in ascending order (never null, may be empty; at most {@value #MAX_SHARDS}).
     */
    public record IndexState(String metric, long documents, List<ShardState> shards) {
        public static final String INNER_PRODUCT = "inner_product";
        public static final String COSINE = "cosine";
        public static final String L2 = "l2";
        /** Most shards one index state lists. */
        public static final int MAX_SHARDS = 1024;

        public IndexState {
            if (!knownMetric(metric)) {
                throw new IllegalArgumentException(
                        "metric must be 'inner_product', 'cosine' or 'l2' (got " + quoted(metric) + ")");
            }
            Copies.requireNonNegative(documents, "documents");
            shards = Copies.list(shards);
            String problem = shardsProblem(shards);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
        }

        static boolean knownMetric(String metric) {
            return INNER_PRODUCT.equals(metric) || COSINE.equals(metric) || L2.equals(metric);
        }

        /** Null when the shards are within the limit, distinct and ascending; else what is wrong. */
        static String shardsProblem(List<ShardState> shards) {
            if (shards.size() > MAX_SHARDS) {
                return "shards has " + shards.size() + " entries, limit is " + MAX_SHARDS;
            }
            for (int i = 1; i < shards.size(); i++) {
                int previous = shards.get(i - 1).shard();
                int current = shards.get(i).shard();
                if (current <= previous) {
                    return "shards[" + i + "] is shard " + current + " after shard " + previous
                            + ": shards must be distinct and in ascending order";
                }
            }
            return null;
        }

        private static String quoted(String s) {
            return s == null ? "null" : "'" + s + "'";
        }
    }

    /**
     * One shard of the index: its 0-based index, its live documents (>= 0), and for each partition of the corpus
     * topic the last corpus offset the shard had applied ({@code -1}: none yet). Partitions are >= 0, offsets
     * >= -1, at most {@value #MAX_PARTITIONS} entries; the map is copied into an unmodifiable map sorted by
     * partition (so the wire form is deterministic). A null map is empty.
     */
    public record ShardState(int shard, long documents, Map<Integer, Long> lastOffsets) {
        /** Most corpus partitions one shard reports. */
        public static final int MAX_PARTITIONS = 1024;

        public ShardState {
            if (shard < 0) {
                throw new IllegalArgumentException("shard must be >= 0 (got " + shard + ")");
            }
            if (documents < 0) {
                throw new IllegalArgumentException("documents of shard " + shard + " must be >= 0 (got " + documents
                        + ")");
            }
            lastOffsets = sortedOffsets(shard, lastOffsets);
        }

        private static SortedMap<Integer, Long> sortedOffsets(int shard, Map<Integer, Long> offsets) {
            if (offsets == null || offsets.isEmpty()) {
                return Collections.emptySortedMap();
            }
            if (offsets.size() > MAX_PARTITIONS) {
                throw new IllegalArgumentException("lastOffsets of shard " + shard + " has " + offsets.size()
                        + " partitions, limit is " + MAX_PARTITIONS);
            }
            SortedMap<Integer, Long> copy = new TreeMap<>();
            for (Map.Entry<Integer, Long> e : offsets.entrySet()) {
                Integer partition = e.getKey();
                Long offset = e.getValue();
                if (partition == null || partition < 0) {
                    throw new IllegalArgumentException("lastOffsets of shard " + shard + " has partition " + partition
                            + ", must be >= 0");
                }
                if (offset == null || offset < -1) {
                    throw new IllegalArgumentException("lastOffsets of shard " + shard + " has offset " + offset
                            + " for partition " + partition + ", must be >= -1 (-1: none applied yet)");
                }
                copy.put(partition, offset);
            }
            return Collections.unmodifiableSortedMap(copy);
        }
    }

    /**
     * Where the event landed in its tenant's topic tree on arrival:
     * {@code {"id":12,"path":[12,4,1],"tree_version":3}}.
     * <ul>
     *   <li>member: {@code id} is the flat topic (a node id of the tree, >= 0) and appears in {@code path};</li>
     *   <li>noise: {@code id} is null, {@code path} still holds the nodes the event joined;</li>
     *   <li>no tree yet: {@code id} null, {@code path} empty, {@code treeVersion} 0.</li>
     * </ul>
     * {@code path} holds node ids (each >= 0) from the deepest node the event joined up to the root; it is copied,
     * never null (null is read as empty), at most {@value EnrichedEvent#MAX_TOPIC_PATH} entries.
     * {@code treeVersion} is the {@code tree_version} of the {@link TopicTreeRecord} the event was assigned to,
     * >= 0, and >= 1 when {@code path} is not empty.
     */
    public record TopicRef(Integer id, List<Integer> path, long treeVersion) {
        public TopicRef {
            if (id != null && id < 0) {
                throw new IllegalArgumentException("topic id must be >= 0 (null for noise) (got " + id + ")");
            }
            if (path != null) {
                if (path.size() > MAX_TOPIC_PATH) {
                    throw new IllegalArgumentException("topic path has " + path.size() + " entries, limit is "
                            + MAX_TOPIC_PATH);
                }
                for (int i = 0; i < path.size(); i++) {
                    Integer node = path.get(i);
                    if (node == null || node < 0) {
                        throw new IllegalArgumentException("topic path[" + i + "] is " + node
                                + ", must be a node id >= 0");
                    }
                }
            }
            path = Copies.list(path);
            if (treeVersion < 0) {
                throw new IllegalArgumentException("topic treeVersion must be >= 0 (got " + treeVersion + ")");
            }
            String problem = problem(id, path, treeVersion);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
        }

        /** Null when {@code id} is in the path and a non-empty path has a tree version; else what is wrong. */
        static String problem(Integer id, List<Integer> path, long treeVersion) {
            if (!path.isEmpty() && treeVersion == 0) {
                return "topic treeVersion is 0 but path is " + path
                        + ": a path needs the version (>= 1) of the tree it was found in";
            }
            if (id != null && !path.contains(id)) {
                return "topic id " + id + " is not in path " + path
                        + ": the flat topic must be one of the nodes the event joined";
            }
            return null;
        }
    }

    /** The event without retrieval results ({@code neighbours} empty, {@code index} null) and without topic. */
    public EnrichedEvent(String id, String inputType, SourceRef source, ModelRef model, Integer tokenCount,
                         boolean truncated, Integer embeddingDim, float[] embedding, String embeddingF16Base64,
                         List<Score> scores, Map<String, String> attributes, long processedAt) {
        this(id, inputType, source, model, tokenCount, truncated, embeddingDim, embedding, embeddingF16Base64,
                scores, attributes, processedAt, List.of(), null, null, null);
    }

    /** The event with the given retrieval results and without topic ({@code topic} null). */
    public EnrichedEvent(String id, String inputType, SourceRef source, ModelRef model, Integer tokenCount,
                         boolean truncated, Integer embeddingDim, float[] embedding, String embeddingF16Base64,
                         List<Score> scores, Map<String, String> attributes, long processedAt,
                         List<Neighbour> neighbours, IndexState index) {
        this(id, inputType, source, model, tokenCount, truncated, embeddingDim, embedding, embeddingF16Base64,
                scores, attributes, processedAt, neighbours, index, null, null);
    }

    /** The event with the given retrieval results and topic, without a scorer ({@code scorer} null). */
    public EnrichedEvent(String id, String inputType, SourceRef source, ModelRef model, Integer tokenCount,
                         boolean truncated, Integer embeddingDim, float[] embedding, String embeddingF16Base64,
                         List<Score> scores, Map<String, String> attributes, long processedAt,
                         List<Neighbour> neighbours, IndexState index, TopicRef topic) {
        this(id, inputType, source, model, tokenCount, truncated, embeddingDim, embedding, embeddingF16Base64,
                scores, attributes, processedAt, neighbours, index, topic, null);
    }

    public EnrichedEvent {
        Copies.requireNonEmpty(id, "id");
        if (!INPUT_TEXT.equals(inputType) && !INPUT_IMAGE.equals(inputType)) {
            throw new IllegalArgumentException("inputType must be 'text' or 'image' (got '" + inputType + "')");
        }
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(model, "model");
        if (INPUT_TEXT.equals(inputType) && tokenCount == null) {
            throw new IllegalArgumentException("tokenCount is required for text input");
        }
        if (tokenCount != null) {
            Copies.requireNonNegative(tokenCount, "tokenCount");
        }
        if (embedding != null && embeddingF16Base64 != null) {
            throw new IllegalArgumentException("set at most one of embedding and embeddingF16Base64");
        }
        if (embedding != null) {
            for (int i = 0; i < embedding.length; i++) {
                if (!Float.isFinite(embedding[i])) {
                    throw new IllegalArgumentException("embedding[" + i + "] is " + embedding[i] + ", must be finite");
                }
            }
        }
        if (embeddingDim != null) {
            if (embeddingDim <= 0) {
                throw new IllegalArgumentException("embeddingDim must be > 0 (got " + embeddingDim + ")");
            }
            int length = embedding != null ? embedding.length
                    : embeddingF16Base64 != null ? Float16.decodedLength(embeddingF16Base64) : embeddingDim;
            if (length != embeddingDim) {
                throw new IllegalArgumentException(
                        "embeddingDim is " + embeddingDim + " but the embedding has " + length + " values");
            }
        }
        Copies.requireNonNegative(processedAt, "processedAt");
        scores = Copies.list(scores);
        if (scorer != null && scores.isEmpty()) {
            throw new IllegalArgumentException("scorer " + scorer.name() + " is set but scores is empty: a scorer"
                    + " names the model of the scores");
        }
        attributes = Copies.attributes(attributes);
        neighbours = Copies.list(neighbours);
        String problem = neighboursProblem(neighbours);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /**
     * This event with the given retrieval results (the other components, the embedding array and the topic
     * included, are shared). {@code neighbours} null or empty and {@code index} null remove them.
     */
    public EnrichedEvent withRetrieval(List<Neighbour> neighbours, IndexState index) {
        return new EnrichedEvent(id, inputType, source, model, tokenCount, truncated, embeddingDim, embedding,
                embeddingF16Base64, scores, attributes, processedAt, neighbours, index, topic, scorer);
    }

    /**
     * This event with the given topic (the other components, the embedding array and the retrieval results
     * included, are shared). Null removes it.
     *
     * <p>{@code event.withTopic(new EnrichedEvent.TopicRef(12, List.of(12, 4, 1), 3))}
     */
    public EnrichedEvent withTopic(TopicRef topic) {
        return new EnrichedEvent(id, inputType, source, model, tokenCount, truncated, embeddingDim, embedding,
                embeddingF16Base64, scores, attributes, processedAt, neighbours, index, topic, scorer);
    }

    /**
     * This event with the scores of a scorer model (the other components are shared); {@code scorer} names the
     * model that computed them. {@code scores} empty and {@code scorer} null remove them.
     *
     * <p>{@code event.withScores(List.of(new Score("spam", 0.97), new Score("ham", 0.03)),
     * new ScorerRef("spam-ham-minilm", "1", "int8"))}
     */
    public EnrichedEvent withScores(List<Score> scores, ScorerRef scorer) {
        return new EnrichedEvent(id, inputType, source, model, tokenCount, truncated, embeddingDim, embedding,
                embeddingF16Base64, scores, attributes, processedAt, neighbours, index, topic, scorer);
    }

    /** Null when the neighbours are within the limit, ranked 1..n in order and best first; else what is wrong. */
    static String neighboursProblem(List<Neighbour> neighbours) {
        if (neighbours.size() > MAX_NEIGHBOURS) {
            return "neighbours has " + neighbours.size() + " entries, limit is " + MAX_NEIGHBOURS;
        }
        for (int i = 0; i < neighbours.size(); i++) {
            Neighbour n = neighbours.get(i);
            if (n.rank() != i + 1) {
                return "neighbours[" + i + "] has rank " + n.rank() + ", expected " + (i + 1)
                        + ": ranks run 1..n in list order";
            }
            if (i > 0 && n.score() > neighbours.get(i - 1).score()) {
                return "neighbours[" + i + "] has score " + n.score() + ", above the " + neighbours.get(i - 1).score()
                        + " of neighbours[" + (i - 1) + "]: scores must not increase down the list";
            }
        }
        return null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EnrichedEvent e
                && id.equals(e.id) && inputType.equals(e.inputType) && source.equals(e.source)
                && model.equals(e.model) && Objects.equals(tokenCount, e.tokenCount) && truncated == e.truncated
                && Objects.equals(embeddingDim, e.embeddingDim) && Arrays.equals(embedding, e.embedding)
                && Objects.equals(embeddingF16Base64, e.embeddingF16Base64) && scores.equals(e.scores)
                && attributes.equals(e.attributes) && processedAt == e.processedAt
                && neighbours.equals(e.neighbours) && Objects.equals(index, e.index)
                && Objects.equals(topic, e.topic) && Objects.equals(scorer, e.scorer);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, inputType, source, model, tokenCount, truncated, embeddingDim,
                Arrays.hashCode(embedding), embeddingF16Base64, scores, attributes, processedAt, neighbours, index,
                topic, scorer);
    }

    @Override
    public String toString() {
        return "EnrichedEvent[id=" + id + ", inputType=" + inputType + ", source=" + source + ", model=" + model
                + ", tokenCount=" + tokenCount + ", truncated=" + truncated + ", embeddingDim=" + embeddingDim
                + ", embedding=" + (embedding == null ? "null" : "float[" + embedding.length + "]")
                + ", embeddingF16Base64=" + (embeddingF16Base64 == null ? "null" : embeddingF16Base64.length() + " chars")
                + ", scores=" + scores + ", attributes=" + attributes + ", processedAt=" + processedAt
                + ", neighbours=" + neighbours + ", index=" + index + ", topic=" + topic + ", scorer=" + scorer + "]";
    }
}
