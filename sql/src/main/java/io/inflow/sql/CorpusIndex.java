package io.inflow.sql;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.operators.retrieval.IndexShard;
import io.inflow.operators.retrieval.IndexVersion;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The documents of a corpus topic in the retrieval operator's own index ({@link IndexShard}: one shard holding every
 * document, same storage, metric, kernels and tie rule: equal scores go to the lower document id) searched by the
 * backend's retrieval kernels. Updates (from the corpus reader) and searches (from every slot) are serialised on
 * this object: a search sees the index as the reader had applied it when the search began, and the texts it returns
 * belong to the vectors it scored.
 *
 * <pre>{@code
 * try (CorpusIndex index = new CorpusIndex(spec)) {
 *     index.upsert("d1", vector, "A dog.", 0, 17L);
 *     List<CorpusIndex.Hit> hits = index.search(query, 10);
 * }
 * }</pre>
 */
final class CorpusIndex implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CorpusIndex.class);

    /**
     * One answer row.
     *
     * @param vector the document's stored vector (dequantized)
     * @param text the document's text, null when not kept or the document came as an embedding
     */
    record Hit(String docId, float score, float[] vector, String text) {
    }

    private final CorpusIndexSpec spec;
    private final IndexShard shard;
    private final Map<String, String> texts = new HashMap<>();
    private final Backend backend;

    CorpusIndex(CorpusIndexSpec spec) {
        this.spec = spec;
        this.shard = new IndexShard(spec.storage(), spec.dim(), spec.chunkRows());
        Backend b = Backends.create(spec.backend(), spec.threads());
        if (!b.supports(Family.RETRIEVAL)) {
            LOG.warn("backend {} has no retrieval kernels; the index searches on the CPU reference (slow)", b.name());
            b.close();
            b = Backends.reference();
        }
        this.backend = b;
    }

    /** Inserts or replaces a document (its vector has the index's width; checked by the caller). */
    synchronized void upsert(String docId, float[] vector, String text, int partition, long offset) {
        shard.upsert(docId, vector, null, partition, offset);
        if (spec.keepText() && text != null) {
            texts.put(docId, text);
        } else {
            texts.remove(docId);
        }
    }

    /** Removes a document (nothing when it is not indexed). */
    synchronized void delete(String docId, int partition, long offset) {
        shard.delete(docId, partition, offset);
        texts.remove(docId);
    }

    /** Records a corpus offset that changed nothing (a rejected record). */
    synchronized void applied(int partition, long offset) {
        shard.applied(partition, offset);
    }

    /** Live documents. */
    synchronized int documents() {
        return shard.documents();
    }

    /** Whether {@code docId} is indexed. */
    synchronized boolean contains(String docId) {
        return shard.contains(docId);
    }

    /** The {@code k} best documents for {@code query} (the index's width), best first. */
    synchronized List<Hit> search(float[] query, int k) {
        IndexVersion version = shard.pin();
        TopK top = backend.retrieval().search(version.chunks(),
                new SearchRequest(query, 1, spec.dim(), k, spec.metric(), null));
        List<Hit> hits = new ArrayList<>(top.hits(0));
        for (int i = 0; i < top.hits(0); i++) {
            int chunk = top.chunk(0, i);
            int row = top.row(0, i);
            String id = version.docId(chunk, row);
            hits.add(new Hit(id, top.score(0, i), version.chunks().get(chunk).row(row), texts.get(id)));
        }
        return hits;
    }

    /** The backend's name ({@code cpu-fast}, {@code cuda}, ...). */
    String backend() {
        return backend.name();
    }

    @Override
    public synchronized void close() {
        backend.close();
    }
}
