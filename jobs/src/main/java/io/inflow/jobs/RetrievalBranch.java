package io.inflow.jobs;

import io.inflow.connectors.kafka.InflowKafka;
import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Family;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.jobs.config.RetrievalJobSettings;
import io.inflow.jobs.faults.StallingCompute;
import io.inflow.operators.batch.BatchOperatorFactory;
import io.inflow.operators.batch.BatchSettings;
import io.inflow.operators.batch.TwoInputBatchOperatorFactory;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.embed.EncoderCompute;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.operators.embed.TextEmbedCompute;
import io.inflow.operators.embed.TextEmbedOperatorFactory;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.operators.retrieval.CorpusChange;
import io.inflow.operators.retrieval.DecodeCorpusFunction;
import io.inflow.operators.retrieval.DocUpdate;
import io.inflow.operators.retrieval.MergeShardHits;
import io.inflow.operators.retrieval.QueryRow;
import io.inflow.operators.retrieval.RetrievalAnswer;
import io.inflow.operators.retrieval.RetrievalCompute;
import io.inflow.operators.retrieval.RetrievalOutput;
import io.inflow.operators.topics.AnswerTopicEvents;
import io.inflow.operators.topics.TopicEvent;
import io.inflow.operators.retrieval.RetrievalRowOutputs;
import io.inflow.operators.retrieval.ShardHits;
import io.inflow.operators.retrieval.SplitCorpus;
import io.inflow.operators.tokenize.AsyncTokenizeFunction;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.SourcedText;
import io.inflow.jobs.config.ImageSettings;
import io.inflow.operators.embed.ImageEmbedCompute;
import io.inflow.operators.embed.ImageEmbedOperatorFactory;
import io.inflow.operators.embed.VitCompute;
import io.inflow.operators.image.AsyncImageDecodeFunction;
import io.inflow.operators.image.DecodedImageEvent;
import io.inflow.operators.image.RouteRejectedImages;
import io.inflow.operators.retrieval.RetrievalSettings;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The retrieval part of the pipeline ({@code inflow.retrieval.enabled}):
 * <pre>
 * corpus -> decode -> split: upserts -> tokenize -> embed (same encoder) -> DocUpdate --keyBy(doc id)--+
 *                            deletes ---------------------------------------------------------------+
 *                            precomputed embeddings of the text model ------------------------------+
 * tokenized text events -> embed -> QueryRow --broadcast--> retrieve (shard i of P) -> ShardHits
 *   -> keyBy(query) merge -> the enriched event with its neighbours -> enriched
 * </pre>
 * With images on ({@code inflow.image.enabled}) a second index holds the image documents:
 * <pre>
 * corpus image upserts -> decode pixels -> route rejected -> embed (same ViT) -> DocUpdate --keyBy(doc id)--+
 * deletes (all of them) and each text upsert's delete of its id -------------------------------------------+
 * precomputed embeddings of the image model --------------------------------------------------------------+
 * decoded image events -> embed (ViT) -> QueryRow --broadcast--> retrieve image (shard i of P)
 *   -> keyBy(query) merge -> the enriched image event with its neighbours -> enriched
 * </pre>
 * (an image upsert likewise deletes its id from the text index: a document lives in the index of its last
 * modality; a precomputed embedding, with its {@code model}, goes unencoded to the index of that model and
 * deletes its id from the other, see {@link SplitCorpus}). The image index has the text index's k, metric, storage
 * and batch settings, at the ViT's width.
 * With {@code inflow.retrieval.rerank.enabled} both embeddings also carry each text's token vectors (through the
 * rerank head), the shards keep documents' token vectors and rerank their single-vector candidates by MaxSim, and
 * the merge applies the two-stage rule over all shards ({@link MergeShardHits}).
 * The corpus source reads its topic from the beginning when the job starts without a checkpoint (the index is the
 * whole compacted topic); from a checkpoint it resumes where the restored index left off.
 *
 * <p>{@code InflowPipeline.Branch b = RetrievalBranch.build(env, settings, tokenizedTexts, compute, encoder);}
 */
final class RetrievalBranch {

    private static final Logger LOG = LoggerFactory.getLogger(RetrievalBranch.class);

    private RetrievalBranch() {
    }

    static InflowPipeline.Branch build(StreamExecutionEnvironment env, PipelineSettings s,
            DataStream<TokenizedText> tokenizedEvents, TextBatchCompute compute, OutputEncoder encoder) {
        return build(env, s, tokenizedEvents, compute, encoder, null);
    }

    /**
     * As above; with {@code imageEvents} (the image branch's decoded images, null when images are off) image
     * documents of the corpus go to a second index of the image encoder's vectors, and image events are its queries.
     */
    static InflowPipeline.Branch build(StreamExecutionEnvironment env, PipelineSettings s,
            DataStream<TokenizedText> tokenizedEvents, TextBatchCompute compute, OutputEncoder encoder,
            DataStream<DecodedImageEvent> imageEvents) {
        boolean images = imageEvents != null;
        RetrievalJobSettings r = s.retrieval();
        boolean rerank = r.tokenHead() != null;
        if (rerank) {
            // the same encoder (shared per process), its batches also carrying every row's token vectors
            compute = StallingCompute.map(compute, c -> new EncoderCompute(((EncoderCompute) c).spec(),
                    r.tokenHead(), ((EncoderCompute) c).scorer()));
        }
        BatchSettings embedSettings = new BatchSettings(s.batching().maxWait(), s.batching().maxInFlight(),
                TextEmbedOperatorFactory.METRICS_OPERATOR, TextEmbedOperatorFactory.MODALITY);

        // the queries: text events embedded as usual, kept as vectors for the index
        SingleOutputStreamOperator<QueryRow> queries = tokenizedEvents
                .transform("batch + compute", TypeInformation.of(QueryRow.class), new BatchOperatorFactory<>(
                        new TextEmbedCompute<>(s.batching(), compute, s.encoding(),
                                RetrievalRowOutputs.queries(r.filterAttribute(), rerank)), embedSettings))
                .uid(InflowPipeline.UID_EMBED);

        // the corpus: decoded, upserts embedded by the same encoder, deletes straight to the index
        String topic = s.kafka().topics().corpus();
        SingleOutputStreamOperator<CorpusChange> changes = env
                .fromSource(InflowKafka.corpusSource(s.kafka(), InflowPipeline.corpusGroupId(s)),
                        WatermarkStrategy.noWatermarks(), "kafka: " + topic)
                .uid(InflowPipeline.UID_CORPUS_SOURCE)
                .process(new DecodeCorpusFunction(s.limits()), TypeInformation.of(CorpusChange.class))
                .name("decode corpus").uid(InflowPipeline.UID_CORPUS_DECODE);
        SingleOutputStreamOperator<SourcedText> upserts = changes
                .process(new SplitCorpus(images, s.model().modelName(), images ? s.images().encoder().modelName()
                        : null, r.filterAttribute(), rerank), TypeInformation.of(SourcedText.class))
                .name("split upserts and deletes").uid(InflowPipeline.UID_CORPUS_SPLIT);
        DataStream<TokenizedText> tokenizedDocs = AsyncDataStream.orderedWait(upserts,
                        new AsyncTokenizeFunction(s.model(), s.maxTokens(), s.tokenizerThreads()),
                        InflowPipeline.TOKENIZE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS,
                        InflowPipeline.tokenizeCapacity(s))
                .returns(TypeInformation.of(TokenizedText.class))
                .name("tokenize corpus").uid(InflowPipeline.UID_CORPUS_TOKENIZE);
        SingleOutputStreamOperator<DocUpdate> embeddedDocs = tokenizedDocs
                .transform("batch + compute corpus", TypeInformation.of(DocUpdate.class), new BatchOperatorFactory<>(
                        new TextEmbedCompute<>(s.batching(), withoutScorer(compute), s.encoding(),
                                RetrievalRowOutputs.documents(r.filterAttribute(), rerank)),
                        new BatchSettings(s.batching().maxWait(), s.batching().maxInFlight(), "embed", "corpus")))
                .uid(InflowPipeline.UID_CORPUS_EMBED);
        DataStream<DocUpdate> docs = embeddedDocs.union(upserts.getSideOutput(SplitCorpus.DELETES),
                upserts.getSideOutput(SplitCorpus.TEXT_VECTORS));

        // the text index's shards and the merge
        List<DataStream<DeadLetterRecord>> deadLetters = new ArrayList<>(List.of(queries.getSideOutput(DeadLetters.TAG),
                changes.getSideOutput(DeadLetters.TAG), upserts.getSideOutput(DeadLetters.TAG),
                embeddedDocs.getSideOutput(DeadLetters.TAG)));
        DataStream<EncodedRecord> enriched = index(s, r, r.index(), RetrievalCompute.TEXT_INDEX, queries, docs,
                rerank ? r.index().rerank().candidates() : 0, encoder, InflowPipeline.UID_RETRIEVE,
                InflowPipeline.UID_MERGE, InflowPipeline.UID_RETRIEVAL_OUTPUT, deadLetters);

        if (images) {
            // the image index: image documents decoded and embedded as image events are (same ViT spec, so the
            // shared encoder), image events as its queries; deletes reach both indexes (SplitCorpus)
            ImageSettings img = s.images();
            RetrievalSettings imageIndex;
            try {
                imageIndex = r.imageIndex(img.encoder().dimension());
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("cannot read the image model's width for the image index: "
                        + e.getMessage(), e);
            }
            SingleOutputStreamOperator<QueryRow> imageQueries = imageEvents
                    .transform("batch + vit", TypeInformation.of(QueryRow.class), new BatchOperatorFactory<>(
                            new ImageEmbedCompute<>(img.batching(), new VitCompute(img.encoder()), s.encoding(),
                                    img.topK(), RetrievalRowOutputs.queries(r.filterAttribute())),
                            new BatchSettings(img.batching().maxWait(), img.batching().maxInFlight(),
                                    ImageEmbedOperatorFactory.METRICS_OPERATOR, ImageEmbedOperatorFactory.MODALITY)))
                    .uid(InflowPipeline.UID_IMAGE_EMBED);
            SingleOutputStreamOperator<DecodedImageEvent> docPixels = AsyncDataStream.orderedWait(
                            upserts.getSideOutput(SplitCorpus.IMAGE_UPSERTS),
                            new AsyncImageDecodeFunction(img.decode(), img.decoderThreads()),
                            InflowPipeline.IMAGE_DECODE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS,
                            img.decodeCapacity())
                    .returns(TypeInformation.of(DecodedImageEvent.class))
                    .name("decode corpus pixels").uid(InflowPipeline.UID_CORPUS_IMAGE_PIXELS);
            SingleOutputStreamOperator<DecodedImageEvent> docImages = docPixels
                    .process(new RouteRejectedImages(), TypeInformation.of(DecodedImageEvent.class))
                    .name("route rejected corpus images").uid(InflowPipeline.UID_CORPUS_IMAGE_ROUTE);
            SingleOutputStreamOperator<DocUpdate> embeddedImages = docImages
                    .transform("batch + vit corpus", TypeInformation.of(DocUpdate.class), new BatchOperatorFactory<>(
                            new ImageEmbedCompute<>(img.batching(), new VitCompute(img.encoder()), s.encoding(), 0,
                                    RetrievalRowOutputs.documents(r.filterAttribute())),
                            new BatchSettings(img.batching().maxWait(), img.batching().maxInFlight(),
                                    ImageEmbedOperatorFactory.METRICS_OPERATOR, "corpus-image")))
                    .uid(InflowPipeline.UID_CORPUS_IMAGE_EMBED);
            DataStream<DocUpdate> imageDocs = embeddedImages.union(upserts.getSideOutput(SplitCorpus.IMAGE_DELETES),
                    upserts.getSideOutput(SplitCorpus.IMAGE_VECTORS));
            deadLetters.addAll(List.of(imageQueries.getSideOutput(DeadLetters.TAG),
                    docImages.getSideOutput(DeadLetters.TAG), embeddedImages.getSideOutput(DeadLetters.TAG)));
            enriched = enriched.union(index(s, r, imageIndex, RetrievalCompute.IMAGE_INDEX, imageQueries, imageDocs, 0,
                    encoder, InflowPipeline.UID_IMAGE_RETRIEVE, InflowPipeline.UID_IMAGE_MERGE,
                    InflowPipeline.UID_IMAGE_RETRIEVAL_OUTPUT, deadLetters));
        }
        DataStream<DeadLetterRecord> all = deadLetters.get(0);
        for (DataStream<DeadLetterRecord> d : deadLetters.subList(1, deadLetters.size())) {
            all = all.union(d);
        }
        return new InflowPipeline.Branch(enriched, all);
    }

    /**
     * One index: queries broadcast to its shards, documents keyed by id, the shards' partial answers merged per
     * query and encoded with the neighbours; its dead letters are added to {@code deadLetters}.
     */
    private static DataStream<EncodedRecord> index(PipelineSettings s, RetrievalJobSettings r,
            RetrievalSettings settings, String name,
            DataStream<QueryRow> queries, DataStream<DocUpdate> docs, int rerankCandidates, OutputEncoder encoder,
            String uidRetrieve, String uidMerge, String uidOutput, List<DataStream<DeadLetterRecord>> deadLetters) {
        BackendKind kind = r.backend();
        int threads = r.threads();
        String suffix = RetrievalCompute.TEXT_INDEX.equals(name) ? "" : " " + name;
        SingleOutputStreamOperator<ShardHits> hits = queries.broadcast()
                .connect(docs.keyBy(DocUpdate::docId))
                .transform("retrieve" + suffix, TypeInformation.of(ShardHits.class),
                        new TwoInputBatchOperatorFactory<>(
                                new RetrievalCompute(settings, () -> retrievalBackend(kind, threads), name),
                                new BatchSettings(r.maxWait(), 2, "retrieve", name)))
                .uid(uidRetrieve);
        SingleOutputStreamOperator<RetrievalAnswer> answers = hits
                .keyBy(ShardHits::queryKey)
                .process(new MergeShardHits(settings.k(), rerankCandidates), TypeInformation.of(RetrievalAnswer.class))
                .name("merge neighbours" + suffix).uid(uidMerge);
        deadLetters.add(hits.getSideOutput(DeadLetters.TAG));
        if (s.topicsEnabled()) {
            // the topic tree after the merge: the event leaves with its neighbours and its topic
            boolean image = RetrievalCompute.IMAGE_INDEX.equals(name);
            DataStream<TopicEvent> events = answers
                    .map(new AnswerTopicEvents(settings.metric(), s.topics().tenantAttribute(), s.limits()))
                    .returns(TypeInformation.of(TopicEvent.class))
                    .name("neighbours to topic events" + suffix).uid(uidOutput);
            InflowPipeline.Branch tree = TopicBranch.tree(s, events, image ? s.topics().forDim(settings.dim())
                    : s.topics().tree(), image ? "image" : "text", encoder);
            deadLetters.add(tree.deadLetters());
            return tree.enriched();
        }
        SingleOutputStreamOperator<EncodedRecord> enriched = answers
                .process(new RetrievalOutput(settings.metric(), encoder), TypeInformation.of(EncodedRecord.class))
                .name("encode with neighbours" + suffix).uid(uidOutput);
        deadLetters.add(enriched.getSideOutput(DeadLetters.TAG));
        return enriched;
    }

    /** The encoder's backend kind when it searches; the CPU reference where that kind has no retrieval kernels. */
    static Backend retrievalBackend(BackendKind kind, int threads) {
        Backend b = Backends.create(kind, threads);
        if (b.supports(Family.RETRIEVAL)) {
            return b;
        }
        String name = b.name();
        b.close();
        LOG.warn("backend {} has no retrieval kernels; the index searches on the CPU reference (slow): {}", name,
                "see gpu/CUDA-STATUS.md");
        return Backends.reference();
    }

    /** Corpus documents are indexed, not scored: their compute leaves the scorer out. */
    private static TextBatchCompute withoutScorer(TextBatchCompute compute) {
        return StallingCompute.map(compute, c -> c instanceof EncoderCompute e && e.scorer() != null
                ? new EncoderCompute(e.spec(), e.tokenHead(), null) : c);
    }
}
