package io.inflow.sql;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.Storage;

import java.io.Serializable;
import java.util.Map;

/**
 * What a TaskManager's shared {@code VECTOR_SEARCH} index is built from: the corpus topic and its consumer settings,
 * the text encoder, and the index layout. It is the key of the process's shared index
 * ({@code ProcessResources}): tables with equal specs share one index and one corpus reader per TaskManager.
 *
 * <p>{@code new CorpusIndexSpec("corpus", Map.of("bootstrap.servers", "kafka:9092"), embedding, Metric.COSINE,
 * Storage.FLOAT16, 4096, BackendKind.CPU, 2, true)}
 *
 * @param topic the compacted corpus topic
 * @param kafka consumer properties ({@code bootstrap.servers}, security settings, ...)
 * @param embedding the text encoder's settings (the DataStream pipeline's {@code EncoderSpec} inside)
 * @param metric how queries score documents
 * @param storage how document vectors are held
 * @param chunkRows documents per index chunk
 * @param backend the search backend's kind
 * @param threads the search backend's CPU threads
 * @param keepText whether the documents' texts are kept (a table has a {@code text} column)
 */
public record CorpusIndexSpec(String topic, Map<String, String> kafka, EmbeddingModelSettings embedding,
        Metric metric, Storage storage, int chunkRows, BackendKind backend, int threads, boolean keepText)
        implements Serializable {

    public CorpusIndexSpec {
        kafka = Map.copyOf(kafka);
    }

    /** The embedding width of the model. */
    public int dim() {
        return embedding.spec().model().dimension();
    }

    /** Names the index without the consumer properties' values (they may hold credentials). */
    @Override
    public String toString() {
        return "corpus index of topic '" + topic + "' at " + kafka.get("bootstrap.servers") + " (" + dim() + "-dim "
                + embedding.spec().model().modelName() + ", " + metric.name().toLowerCase(java.util.Locale.ROOT) + ", "
                + storage.name().toLowerCase(java.util.Locale.ROOT) + (keepText ? ", with texts" : "") + ")";
    }
}
