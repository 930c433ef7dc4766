package io.inflow.jobs;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.jobs.config.ImageOptions;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.jobs.config.RetrievalOptions;
import io.inflow.operators.embed.ImageEncoderSpec;
import io.inflow.operators.retrieval.RetrievalSettings;

import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The built job graph (no cluster): the image index exists exactly when retrieval and images are both on. */
class ImageRetrievalTopologyTest {

    private static final List<String> IMAGE_INDEX_UIDS = List.of(InflowPipeline.UID_CORPUS_IMAGE_PIXELS,
            InflowPipeline.UID_CORPUS_IMAGE_ROUTE, InflowPipeline.UID_CORPUS_IMAGE_EMBED,
            InflowPipeline.UID_IMAGE_RETRIEVE, InflowPipeline.UID_IMAGE_MERGE, InflowPipeline.UID_IMAGE_RETRIEVAL_OUTPUT);

    private static Configuration conf(boolean retrieval, boolean images) {
        Configuration c = new Configuration();
        c.set(KafkaOptions.BOOTSTRAP_SERVERS, "127.0.0.1:9092");
        c.set(RetrievalOptions.ENABLED, retrieval);
        c.set(ImageOptions.ENABLED, images);
        return c;
    }

    /** The uid of every transformation of the built pipeline (duplicates kept). */
    private static List<String> uids(Configuration conf) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        InflowPipeline.build(env, conf);
        Set<Transformation<?>> seen = new HashSet<>();
        List<String> out = new ArrayList<>();
        for (Transformation<?> sink : env.getTransformations()) {
            for (Transformation<?> t : sink.getTransitivePredecessors()) {
                if (seen.add(t) && t.getUid() != null) {
                    out.add(t.getUid());
                }
            }
        }
        return out;
    }

    @Test
    void retrievalWithImagesBuildsASecondIndexWithItsOwnUids() {
        List<String> uids = uids(conf(true, true));
        assertThat(uids).containsAll(IMAGE_INDEX_UIDS).contains(InflowPipeline.UID_RETRIEVE, InflowPipeline.UID_MERGE,
                InflowPipeline.UID_RETRIEVAL_OUTPUT, InflowPipeline.UID_IMAGE_EMBED);
        assertThat(uids).doesNotHaveDuplicates();
    }

    @Test
    void noImageIndexWithoutImagesOrWithoutRetrieval() {
        assertThat(uids(conf(true, false))).doesNotContainAnyElementsOf(IMAGE_INDEX_UIDS)
                .doesNotContain(InflowPipeline.UID_IMAGE_EMBED);
        List<String> imagesOnly = uids(conf(false, true));
        assertThat(imagesOnly).doesNotContainAnyElementsOf(IMAGE_INDEX_UIDS).contains(InflowPipeline.UID_IMAGE_EMBED)
                .doesNotHaveDuplicates();
    }

    @Test
    void theImageIndexTakesTheTextIndexSettingsAtTheVitWidth() throws Exception {
        Configuration c = conf(true, true);
        c.set(RetrievalOptions.K, 7);
        c.set(RetrievalOptions.STORAGE, "int8");
        PipelineSettings s = PipelineSettings.from(c);
        int dim = s.images().encoder().dimension();
        assertThat(dim).isEqualTo(128);
        assertThat(ImageEncoderSpec.bundled(io.inflow.gpu.backend.BackendKind.CPU, 1).dimension()).isEqualTo(128);
        RetrievalSettings image = s.retrieval().imageIndex(dim);
        RetrievalSettings text = s.retrieval().index();
        assertThat(image).isEqualTo(new RetrievalSettings(128, 7, text.metric(), text.storage(), text.chunkCapacity(),
                text.maxBatchRows(), null));
    }
}
