package io.inflow.jobs.cluster;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The command lines of a standalone cluster's JVMs, as Flink's {@code bin/jobmanager.sh} and
 * {@code bin/taskmanager.sh} build them: JVM memory flags and the memory dynamic properties computed from the
 * configuration by the same code as {@code BashJavaUtils GET_JM_RESOURCE_PARAMS} / {@code GET_TM_RESOURCE_PARAMS}
 * ({@link JobManagerProcessUtils}, {@link TaskExecutorProcessUtils}), then the entry class
 * ({@code StandaloneSessionClusterEntrypoint} or {@code TaskManagerRunner}) with {@code --configDir} and the
 * per-process {@code -D} keys.
 *
 * <pre>{@code
 * List<String> cmd = ProcessCommands.taskManager(layout, flinkLib, List.of("-Dmetrics.reporter.prom.port=9250"));
 * }</pre>
 */
public final class ProcessCommands {

    /** Entry class of the JobManager of a standalone session cluster. */
    public static final String JOBMANAGER_CLASS = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    /** Entry class of a TaskManager. */
    public static final String TASKMANAGER_CLASS = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";

    /**
     * What every process needs besides memory: the module openings Flink 2's own scripts add
     * ({@code env.java.opts.all} in Flink's default config) plus Arrow's ({@code java.nio}), and the vector module the
     * CPU kernels use.
     */
    static final List<String> JVM_OPENS = List.of(
            "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED", "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
            "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-modules=jdk.incubator.vector", "-Xss4m");

    private ProcessCommands() {
    }

    /** JVM flags and {@code -D} memory keys of the JobManager: [jvm flags, dynamic properties]. */
    public static List<List<String>> jobManagerMemory(Configuration conf) {
        JobManagerProcessSpec spec = JobManagerProcessUtils.processSpecFromConfig(conf);
        return List.of(split(JobManagerProcessUtils.generateJvmParametersStr(spec, conf)),
                split(JobManagerProcessUtils.generateDynamicConfigsStr(spec)));
    }

    /** JVM flags and {@code -D} memory keys of a TaskManager: [jvm flags, dynamic properties]. */
    public static List<List<String>> taskManagerMemory(Configuration conf) {
        TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(conf);
        return List.of(split(ProcessMemoryUtils.generateJvmParametersStr(spec)),
                split(TaskExecutorProcessUtils.generateDynamicConfigsStr(spec)));
    }

    /** The JobManager's command line. */
    public static List<String> jobManager(ClusterLayout layout, Path flinkLib, List<String> dynamic) {
        Configuration conf = load(layout, dynamic);
        List<List<String>> memory = jobManagerMemory(conf);
        return command(layout, flinkLib, ClusterLayout.JOBMANAGER, JOBMANAGER_CLASS, memory, dynamic);
    }

    /** The command line of TaskManager {@code name}. */
    public static List<String> taskManager(ClusterLayout layout, Path flinkLib, String name, List<String> dynamic) {
        Configuration conf = load(layout, dynamic);
        List<List<String>> memory = taskManagerMemory(conf);
        return command(layout, flinkLib, name, TASKMANAGER_CLASS, memory, dynamic);
    }

    private static List<String> command(ClusterLayout layout, Path flinkLib, String name, String mainClass,
            List<List<String>> memory, List<String> dynamic) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(memory.get(0));
        cmd.addAll(JVM_OPENS);
        cmd.add("-Dlog.file=" + layout.log(name));
        cmd.add("-Dlog4j.configuration=file:" + layout.conf().resolve("log4j.properties"));
        cmd.add("-Dlog4j.configurationFile=file:" + layout.conf().resolve("log4j.properties"));
        cmd.add("-cp");
        cmd.add(flinkLib.toAbsolutePath() + "/*");
        cmd.add(mainClass);
        cmd.add("--configDir");
        cmd.add(layout.conf().toString());
        cmd.addAll(memory.get(1));
        cmd.addAll(dynamic);
        return cmd;
    }

    /** config.yaml plus this process's own {@code -Dkey=value} keys, as the process itself will see them. */
    static Configuration load(ClusterLayout layout, List<String> dynamic) {
        Configuration own = new Configuration();
        for (String d : dynamic) {
            String kv = d.substring(2);
            int eq = kv.indexOf('=');
            own.setString(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return GlobalConfiguration.loadConfiguration(layout.conf().toString(), own);
    }

    private static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        for (String t : Arrays.asList(s.strip().split("\\s+"))) {
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }
}
