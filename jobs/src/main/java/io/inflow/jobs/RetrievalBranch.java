package io.inflow.jobs;

import io.inflow.connectors.kafka.InflowKafka;
import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Family;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.jobs.config.RetrievalJobSettings;
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
import io.inflow.operators.retrieval.RetrievalRowOutputs;
import io.inflow.operators.retrieval.ShardHits;
import io.inflow.operators.retrieval.SplitCorpus;
import io.inflow.operators.tokenize.AsyncTokenizeFunction;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.SourcedText;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * The retrieval part of the pipeline ({@code inflow.retrieval.enabled}):
 * <pre>
 * corpus -> decode -> split: upserts -> tokenize -> embed (same encoder) -> DocUpdate --keyBy(doc id)--+
 *                            deletes ---------------------------------------------------------------+
 * tokenized text events -> embed -> QueryRow --broadcast--> retrieve (shard i of P) -> ShardHits
 *   -> keyBy(query) merge -> the enriched event with its neighbours -> enriched
 * </pre>
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
        RetrievalJobSettings r = s.retrieval();
        boolean rerank = r.tokenHead() != null;
        if (rerank) {
            // the same encoder (shared per process), its batches also carrying every row's token vectors
            compute = new EncoderCompute(((EncoderCompute) compute).spec(), r.tokenHead());
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
                .process(new SplitCorpus(), TypeInformation.of(SourcedText.class))
                .name("split upserts and deletes").uid(InflowPipeline.UID_CORPUS_SPLIT);
        DataStream<TokenizedText> tokenizedDocs = AsyncDataStream.orderedWait(upserts,
                        new AsyncTokenizeFunction(s.model(), s.maxTokens(), s.tokenizerThreads()),
                        InflowPipeline.TOKENIZE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS,
                        InflowPipeline.tokenizeCapacity(s))
                .returns(TypeInformation.of(TokenizedText.class))
                .name("tokenize corpus").uid(InflowPipeline.UID_CORPUS_TOKENIZE);
        SingleOutputStreamOperator<DocUpdate> embeddedDocs = tokenizedDocs
                .transform("batch + compute corpus", TypeInformation.of(DocUpdate.class), new BatchOperatorFactory<>(
                        new TextEmbedCompute<>(s.batching(), compute, s.encoding(),
                                RetrievalRowOutputs.documents(r.filterAttribute(), rerank)),
                        new BatchSettings(s.batching().maxWait(), s.batching().maxInFlight(), "embed", "corpus")))
                .uid(InflowPipeline.UID_CORPUS_EMBED);
        DataStream<DocUpdate> docs = embeddedDocs.union(upserts.getSideOutput(SplitCorpus.DELETES));

        // the index shards and the merge
        BackendKind kind = r.backend();
        int threads = r.threads();
        SingleOutputStreamOperator<ShardHits> hits = queries.broadcast()
                .connect(docs.keyBy(DocUpdate::docId))
                .transform("retrieve", TypeInformation.of(ShardHits.class), new TwoInputBatchOperatorFactory<>(
                        new RetrievalCompute(r.index(), () -> retrievalBackend(kind, threads)),
                        new BatchSettings(r.maxWait(), 2, "retrieve", "text")))
                .uid(InflowPipeline.UID_RETRIEVE);
        SingleOutputStreamOperator<RetrievalAnswer> answers = hits
                .keyBy(ShardHits::queryKey)
                .process(new MergeShardHits(r.index().k(),
                        rerank ? r.index().rerank().candidates() : 0), TypeInformation.of(RetrievalAnswer.class))
                .name("merge neighbours").uid(InflowPipeline.UID_MERGE);
        SingleOutputStreamOperator<EncodedRecord> enriched = answers
                .process(new RetrievalOutput(r.index().metric(), encoder), TypeInformation.of(EncodedRecord.class))
                .name("encode with neighbours").uid(InflowPipeline.UID_RETRIEVAL_OUTPUT);

        DataStream<DeadLetterRecord> deadLetters = queries.getSideOutput(DeadLetters.TAG)
                .union(changes.getSideOutput(DeadLetters.TAG), embeddedDocs.getSideOutput(DeadLetters.TAG),
                        hits.getSideOutput(DeadLetters.TAG), enriched.getSideOutput(DeadLetters.TAG));
        return new InflowPipeline.Branch(enriched, deadLetters);
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
}
