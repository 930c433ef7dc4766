package io.inflow.jobs.cluster;

import org.apache.flink.client.program.PackagedProgram;
import org.apache.flink.client.program.PackagedProgramUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.jobgraph.JobGraph;

import java.io.File;
import java.util.Arrays;

/**
 * What {@code flink run JAR args} and {@code POST /jars/:id/run} do first, in a JVM whose classpath is only Flink's
 * jars ({@code target/flink-lib}) plus this class: load the jar's entry class in Flink's child-first user-code class
 * loader and run its {@code main} into a job graph. Prints {@code main=<class> job=<name> vertices=<n>}.
 * Run by {@link ClusterJarIT}.
 */
public final class JobGraphProbe {

    private JobGraphProbe() {
    }

    public static void main(String[] args) throws Exception {
        PackagedProgram program = PackagedProgram.newBuilder().setJarFile(new File(args[0]))
                .setArguments(Arrays.copyOfRange(args, 1, args.length)).setConfiguration(new Configuration()).build();
        try {
            JobGraph graph = PackagedProgramUtils.createJobGraph(program, new Configuration(), 2, false);
            System.out.println("main=" + program.getMainClassName() + " job=" + graph.getName() + " vertices="
                    + graph.getNumberOfVertices() + " userJars=" + graph.getUserJars().size());
        } finally {
            program.close();
        }
    }
}
