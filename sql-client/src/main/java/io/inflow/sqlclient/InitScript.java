package io.inflow.sqlclient;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.jobs.config.SqlSessionOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

/**
 * The statements {@code ./inflow sql} runs before the first prompt: the text-event topic as {@code TABLE events}
 * (the wire format's JSON, see {@code jobs/src/main/resources/sample/README.md}), {@code TABLE embeddings} for the
 * results, {@code MODEL embedder} ({@code 'provider' = 'inflow'}), {@code TABLE docs} (VECTOR_SEARCH),
 * {@code MODEL spam} (the scorer), the image-event topic as {@code TABLE images} and {@code MODEL vit}.
 *
 * <p>{@code String sql = InitScript.of(conf, "127.0.0.1:9092").sql();}
 *
 * @param eventsTopic the text-event topic ({@code inflow.topics.text-events}, default {@code events.text})
 * @param outputTopic the topic of {@code TABLE embeddings} ({@code inflow.sql.output-topic})
 * @param corpusTopic the corpus topic of {@code TABLE docs} ({@code inflow.topics.corpus})
 * @param imageTopic the image-event topic of {@code TABLE images} ({@code inflow.topics.image-events})
 * @param bootstrapServers the Kafka cluster of the tables
 */
public record InitScript(String eventsTopic, String outputTopic, String corpusTopic, String imageTopic,
        String bootstrapServers) {

    /** Topic of {@code TABLE embeddings}. */
    public static final ConfigOption<String> OUTPUT_TOPIC = SqlSessionOptions.OUTPUT_TOPIC;

    /** Consumer group of {@code TABLE events} (Flink's Kafka source commits its offsets there on checkpoints). */
    static final String GROUP_ID = "inflow-sql";

    /** The model {@code MODEL embedder} runs. */
    static final String MODEL = "all-minilm-l6-v2";

    public static InitScript of(Configuration conf, String bootstrapServers) {
        return new InitScript(conf.get(KafkaOptions.TOPIC_TEXT), conf.get(OUTPUT_TOPIC),
                conf.get(KafkaOptions.TOPIC_CORPUS), conf.get(KafkaOptions.TOPIC_IMAGE), bootstrapServers);
    }

    /**
     * The statements. Malformed JSON records (the demo's sample has 12) are skipped by the format
     * ({@code 'json.ignore-parse-errors'}) instead of failing the query; a field of the wrong type is NULL.
     */
    public String sql() {
        return """
                -- written by ./inflow sql: the demo's topics and Inflow's text encoder
                CREATE TABLE events (
                  `type` STRING,
                  `version` INT,
                  id STRING,
                  text STRING,
                  lang STRING,
                  event_time BIGINT,
                  attributes MAP<STRING, STRING>
                ) WITH (
                  'connector' = 'kafka',
                  'topic' = %1$s,
                  'properties.bootstrap.servers' = %3$s,
                  'properties.group.id' = %4$s,
                  'scan.startup.mode' = 'earliest-offset',
                  'format' = 'json',
                  'json.ignore-parse-errors' = 'true'
                );

                CREATE TABLE embeddings (
                  id STRING,
                  embedding ARRAY<FLOAT>
                ) WITH (
                  'connector' = 'kafka',
                  'topic' = %2$s,
                  'properties.bootstrap.servers' = %3$s,
                  'format' = 'json'
                );

                CREATE MODEL embedder
                  INPUT (text STRING)
                  OUTPUT (embedding ARRAY<FLOAT>)
                  WITH ('provider' = 'inflow', 'task' = 'text-embedding', 'model' = %5$s);

                -- searched with VECTOR_SEARCH; the index is built from the corpus topic when first searched
                CREATE TABLE docs (
                  doc_id STRING,
                  embedding ARRAY<FLOAT>,
                  text STRING
                ) WITH (
                  'connector' = 'inflow-index',
                  'topic' = %6$s,
                  'properties.bootstrap.servers' = %3$s,
                  'model' = %5$s
                );

                -- the spam/ham scorer of the DataStream pipeline (float32): top label and its probability
                CREATE MODEL spam
                  INPUT (text STRING)
                  OUTPUT (label STRING, score FLOAT)
                  WITH ('provider' = 'inflow', 'task' = 'text-classification', 'model' = 'spam-ham-minilm');

                -- image events: inline PNG/JPEG/BMP/GIF bytes (base64 in JSON); image_uri references are not read
                CREATE TABLE images (
                  `type` STRING,
                  id STRING,
                  image_base64 BYTES,
                  image_uri STRING,
                  attributes MAP<STRING, STRING>
                ) WITH (
                  'connector' = 'kafka',
                  'topic' = %7$s,
                  'properties.bootstrap.servers' = %3$s,
                  'properties.group.id' = %4$s,
                  'scan.startup.mode' = 'earliest-offset',
                  'format' = 'json',
                  'json.ignore-parse-errors' = 'true'
                );

                -- the Fashion-MNIST ViT trained here: embedding, top-1 class and its probability
                CREATE MODEL vit
                  INPUT (image BYTES)
                  OUTPUT (embedding ARRAY<FLOAT>, label STRING, score FLOAT)
                  WITH ('provider' = 'inflow', 'task' = 'image-embedding', 'model' = 'vit-fashion-mnist');
                """.formatted(literal(eventsTopic), literal(outputTopic), literal(bootstrapServers),
                literal(GROUP_ID), literal(MODEL), literal(corpusTopic), literal(imageTopic));
    }

    /** A SQL string literal. */
    static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }
}
