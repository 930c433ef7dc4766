package io.inflow.jobs.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Configuration keys of the {@code ./inflow sql} session (the sql-client module): declared here so that
 * {@link KnownKeys} knows them like every other {@code inflow.*} key.
 *
 * <p>{@code ./inflow sql -Dinflow.sql.output-topic=my.embeddings}
 */
public final class SqlSessionOptions {

    /** Topic of the session's {@code TABLE embeddings}. */
    public static final ConfigOption<String> OUTPUT_TOPIC = ConfigOptions.key("inflow.sql.output-topic").stringType()
            .defaultValue("embeddings").withDescription("Topic of the SQL session's TABLE embeddings.");

    private SqlSessionOptions() {
    }
}
