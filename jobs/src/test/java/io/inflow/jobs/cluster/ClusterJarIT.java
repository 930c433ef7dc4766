package io.inflow.jobs.cluster;

import io.inflow.jobs.InflowPipelineJob;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster jar ({@code target/inflow-jobs-<version>-flink.jar}, built at {@code package}; this runs in
 * {@code integration-test}, after it): the entry class is set, no Flink class except the Kafka connector's is inside,
 * none of its classes is also on the cluster's classpath ({@code target/flink-lib}, the jars a Flink cluster provides),
 * the services files of the bundled jars are merged, the models and kernels are inside, and Flink's own client code
 * ({@link PackagedProgram}, what {@code flink run} and the REST API use) builds the job graph from it.
 */
class ClusterJarIT {

    private static Path jar;
    private static Set<String> entries;

    @BeforeAll
    static void open() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            jar = files.filter(f -> f.getFileName().toString().matches("inflow-jobs-.*-flink\\.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no target/inflow-jobs-*-flink.jar: run mvn package"));
        }
        entries = names(jar);
    }

    @Test
    void entryClassIsTheJob() throws IOException {
        try (JarFile j = new JarFile(jar.toFile())) {
            assertThat(j.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo(InflowPipelineJob.class.getName());
        }
        assertThat(entries).contains("io/inflow/jobs/InflowPipelineJob.class");
    }

    @Test
    void noFlinkClassesButTheKafkaConnectors() throws IOException {
        Set<String> connector = names(libJar("flink-connector-kafka-"));
        List<String> flink = entries.stream().filter(e -> e.startsWith("org/apache/flink/") && e.endsWith(".class"))
                .toList();
        assertThat(flink).as("the Kafka connector is inside").isNotEmpty();
        assertThat(flink).as("every Flink class inside comes from flink-connector-kafka").allMatch(connector::contains);
        assertThat(flink).as("nothing shadows Flink's core packages")
                .noneMatch(e -> e.startsWith("org/apache/flink/runtime/") || e.startsWith("org/apache/flink/api/")
                        || e.startsWith("org/apache/flink/configuration/") || e.startsWith("org/apache/flink/shaded/")
                        || e.startsWith("org/apache/flink/connector/base/"));
        assertThat(entries).as("no logging binding, no Scala, no Kafka broker")
                .noneMatch(e -> e.startsWith("org/apache/logging/log4j/") || e.startsWith("org/slf4j/")
                        || e.startsWith("scala/") || e.startsWith("kafka/server/")
                        || e.startsWith("org/apache/kafka/raft/"));
    }

    @Test
    void noClassIsAlsoOnTheClustersClasspath() throws IOException {
        List<String> overlap = new ArrayList<>();
        for (Path lib : flinkLib()) {
            for (String e : names(lib)) {
                if (e.endsWith(".class") && !e.endsWith("module-info.class") && !e.startsWith("META-INF/")
                        && entries.contains(e)) {
                    overlap.add(lib.getFileName() + ": " + e);
                }
            }
        }
        assertThat(overlap).as("classes both in the cluster jar and in target/flink-lib").isEmpty();
    }

    @Test
    void modelsKernelsAndNativesAreInside() throws IOException {
        assertThat(entries).contains("all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json",
                "bge-small-en-v1.5.onnx", "bge-small-en-v1.5-tokenizer.json",
                "models/vit-fashion-mnist/model.onnx", "lib/libJCudaDriver-12.6.0-linux-x86_64.so");
        Set<String> kernels = names(libJar("inflow-gpu-")).stream()
                .filter(e -> e.startsWith("io/inflow/gpu/kernels/")).collect(Collectors.toSet());
        assertThat(kernels).as("the gpu module's kernels").anyMatch(e -> e.endsWith(".fatbin"));
        assertThat(entries).containsAll(kernels);
        assertThat(entries).as("the tokenizers' native library")
                .anyMatch(e -> e.startsWith("native/lib/linux-x86_64/") || e.equals("native/lib/tokenizers.properties"));
    }

    @Test
    void servicesFilesAreMerged() throws IOException {
        Map<String, Set<String>> expected = new HashMap<>();
        try (Stream<Path> libs = Files.list(Path.of("target", "lib"))) {
            for (Path lib : libs.toList()) {
                Set<String> names = names(lib);
                // bundled jars only: those whose classes are inside
                boolean bundled = names.stream().filter(e -> e.endsWith(".class") && !e.startsWith("META-INF/"))
                        .findFirst().map(entries::contains).orElse(false);
                if (!bundled) {
                    continue;
                }
                try (JarFile j = new JarFile(lib.toFile())) {
                    for (String e : names) {
                        if (e.startsWith("META-INF/services/") && !e.endsWith("/")) {
                            expected.computeIfAbsent(e, k -> new HashSet<>()).addAll(lines(j, j.getEntry(e)));
                        }
                    }
                }
            }
        }
        assertThat(expected).containsKey("META-INF/services/org.apache.flink.table.factories.Factory");
        try (JarFile j = new JarFile(jar.toFile())) {
            for (Map.Entry<String, Set<String>> e : expected.entrySet()) {
                ZipEntry merged = j.getEntry(e.getKey());
                assertThat(merged).as(e.getKey()).isNotNull();
                assertThat(lines(j, merged)).as(e.getKey()).containsAll(e.getValue());
            }
        }
    }

    /**
     * What {@code flink run} and {@code POST /jars/:id/run} do first, in a JVM with only Flink's jars on the classpath
     * (as a cluster's client has): {@link JobGraphProbe} runs the jar's entry class into a job graph.
     */
    @Test
    void flinksClientBuildsTheJobGraphFromTheJar() throws Exception {
        Path log = Files.createTempFile("job-graph-probe", ".log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(ProcessCommands.JVM_OPENS);
        cmd.addAll(List.of("-cp", Path.of("target", "flink-lib").toAbsolutePath() + "/*" + File.pathSeparator
                + Path.of("target", "test-classes").toAbsolutePath(), JobGraphProbe.class.getName(),
                jar.toAbsolutePath().toString(), "-Dinflow.kafka.bootstrap-servers=127.0.0.1:9",
                "-Dinflow.image.enabled=false"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("probe ends").isTrue();
        String out = Files.readString(log);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("main=" + InflowPipelineJob.class.getName() + " job=" + InflowPipelineJob.JOB_NAME)
                .containsPattern("vertices=[1-9]");
        Files.delete(log);
    }

    private static List<Path> flinkLib() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("target", "flink-lib"))) {
            List<Path> jars = files.filter(f -> f.toString().endsWith(".jar")).toList();
            assertThat(jars).as("target/flink-lib").isNotEmpty();
            return jars;
        }
    }

    private static Path libJar(String prefix) throws IOException {
        try (Stream<Path> files = Files.list(Path.of("target", "lib"))) {
            return files.filter(f -> f.getFileName().toString().startsWith(prefix)).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + prefix + "*.jar in target/lib"));
        }
    }

    private static Set<String> names(Path jarFile) throws IOException {
        try (JarFile j = new JarFile(jarFile.toFile())) {
            return j.stream().map(ZipEntry::getName).collect(Collectors.toSet());
        }
    }

    private static Set<String> lines(JarFile j, ZipEntry e) throws IOException {
        try (InputStream in = j.getInputStream(e)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).collect(Collectors.toSet());
        }
    }
}
