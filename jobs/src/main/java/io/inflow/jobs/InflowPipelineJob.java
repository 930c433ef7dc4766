package io.inflow.jobs;

import io.inflow.jobs.cli.CommandLine;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Entry point for a Flink cluster: {@code flink run -c io.inflow.jobs.InflowPipelineJob inflow-jobs-<v>.jar
 * -Dinflow.kafka.bootstrap-servers=kafka:9092} (the jar's dependencies on the cluster's classpath, see
 * jobs/README.md). Settings come from the cluster's Flink configuration, overridden by
 * {@code -Dkey=value} / {@code --config FILE} arguments. Started with plain {@code java}, it runs on a local
 * MiniCluster instead.
 */
public final class InflowPipelineJob {

    /** Job name shown in the Flink UI and used in metric labels. */
    public static final String JOB_NAME = "inflow-pipeline";

    private InflowPipelineJob() {
    }

    public static void main(String[] args) throws Exception {
        String[] withCommand = new String[args.length + 1];
        withCommand[0] = "run";
        System.arraycopy(args, 0, withCommand, 1, args.length);
        Configuration conf = CommandLine.parse(withCommand).configuration();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        Configuration merged = new Configuration();
        merged.addAll(Configuration.fromMap(env.getConfiguration().toMap()));
        merged.addAll(conf);
        InflowPipeline.build(env, merged);
        env.execute(JOB_NAME);
    }
}
