package io.inflow.sqlclient;

import io.inflow.jobs.cluster.SessionCluster;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * The jars a session's jobs need on a Flink cluster that has nothing but Flink's own jars on its classpath (a
 * distribution's {@code lib/} without the table jars, or {@code ./inflow cluster start}'s {@code jobs/target/flink-lib}):
 * shipped with every job as {@code pipeline.jars}, so the cluster's {@code lib/} stays as it is.
 * <ul>
 *   <li>the cluster jar ({@code jobs/target/inflow-jobs-*-flink.jar}, or {@code $INFLOW_JOB_JAR}): Inflow's
 *       operators, encoders, model weights, kafka-clients and the Kafka connector, Flink's own jars left out (the
 *       same artifact {@code ./inflow cluster submit} uploads);</li>
 *   <li>the jars (or classes directories, packed into a jar under the work directory) holding the sql module
 *       ({@code 'provider' = 'inflow'}, {@code 'connector' = 'inflow-index'}), Flink's table runtime, table API and
 *       common classes, and the JSON format: found where this JVM loads them from.</li>
 * </ul>
 * A distribution that has the table jars in {@code lib/} loads its own (Flink's classes resolve parent-first).
 *
 * <p>{@code List<Path> jars = ClusterJars.locate(workDir);}
 */
final class ClusterJars {

    /** One class of each jar the cluster needs besides the cluster jar. */
    static final List<String> ANCHORS = List.of(
            "io.inflow.sql.InflowModelProviderFactory", // inflow-sql
            "org.apache.flink.table.runtime.operators.TableStreamOperator", // flink-table-runtime
            "org.apache.flink.table.api.TableConfig", // flink-table-api-java
            "org.apache.flink.table.data.RowData", // flink-table-common
            "org.apache.flink.formats.json.JsonFormatFactory"); // flink-json

    private ClusterJars() {
    }

    /**
     * The cluster jar and the jar of each {@link #ANCHORS} class, absolute, without duplicates.
     *
     * @throws IllegalArgumentException when the cluster jar is missing (naming {@code --jobmanager}, the path and how
     *     to build it)
     */
    static List<Path> locate(Path work) throws IOException {
        Path clusterJar = SessionCluster.Artifacts.locate(null, null).jobJar().toAbsolutePath().normalize();
        if (!Files.isRegularFile(clusterJar)) {
            throw new IllegalArgumentException("--jobmanager: no cluster jar at " + clusterJar + " (build it: mvn -B -q"
                    + " -pl jobs -am package -DskipTests; or set INFLOW_JOB_JAR=FILE)");
        }
        Set<Path> jars = new LinkedHashSet<>();
        jars.add(clusterJar);
        for (String anchor : ANCHORS) {
            jars.add(jarOf(anchor, work));
        }
        return List.copyOf(jars);
    }

    /** The jar {@code className} is loaded from; a classes directory is packed into {@code work/jars/<dir>.jar}. */
    static Path jarOf(String className, Path work) throws IOException {
        CodeSource source;
        try {
            source = Class.forName(className, false, ClusterJars.class.getClassLoader()).getProtectionDomain()
                    .getCodeSource();
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("class " + className + " is not on the classpath of ./inflow sql"
                    + " (sql-client/target/lib is incomplete: mvn -B -q -pl sql-client -am package -DskipTests)", e);
        }
        if (source == null || source.getLocation() == null) {
            throw new IllegalStateException("cannot tell which jar holds " + className);
        }
        Path p;
        try {
            p = Path.of(source.getLocation().toURI()).toAbsolutePath().normalize();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot tell which jar holds " + className + ": " + source.getLocation(), e);
        }
        if (Files.isRegularFile(p)) {
            return p;
        }
        // a classes directory (a build in the IDE or a test run before `package`): its content as a jar
        Path module = p.getParent() == null || p.getParent().getParent() == null ? p : p.getParent().getParent();
        Path jar = Files.createDirectories(work.resolve("jars")).resolve(module.getFileName() + "-"
                + p.getFileName() + ".jar");
        if (!Files.exists(jar)) {
            pack(p, jar);
        }
        return jar;
    }

    private static void pack(Path dir, Path jar) throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.filter(Files::isRegularFile).sorted().forEach(files::add);
        }
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
            for (Path f : files) {
                j.putNextEntry(new JarEntry(dir.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, j);
                j.closeEntry();
            }
        }
    }

    /** Their total size in MiB, for the banner. */
    static long mebibytes(List<Path> jars) throws IOException {
        long bytes = 0;
        for (Path j : jars) {
            bytes += Files.size(j);
        }
        return bytes >> 20;
    }
}
