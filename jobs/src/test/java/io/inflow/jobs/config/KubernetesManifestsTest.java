package io.inflow.jobs.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.gpu.backend.BackendKind;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * {@code deploy/kubernetes/} checked the way a cluster would check it, without a cluster.
 *
 * <p>The FlinkDeployment is validated against the FlinkDeployment CRD that ships in
 * {@code org.apache.flink:flink-kubernetes-operator-api:1.10.0} (the newest on Maven Central; unpacked into
 * {@code target/operator-crds} by the pom), with a real JSON Schema validator. The CRD's schema is an OpenAPI v3
 * structural schema; it is used as the API server uses it: {@code x-kubernetes-*} keywords are annotations (removed
 * before validation), and every object schema that lists properties but neither {@code additionalProperties} nor
 * {@code x-kubernetes-preserve-unknown-fields} gets {@code additionalProperties: false}, since strict field
 * validation ({@code kubectl apply}'s default since Kubernetes 1.27 warns, {@code --validate=strict} rejects) and
 * pruning would drop an unknown field, so a misspelt one must fail here.
 *
 * <p>Flink 2.2: the 1.10 CRD's {@code flinkVersion} enum stops at {@code v1_20}. The deployment targets operator
 * 1.15, whose {@code FlinkVersion} enum adds exactly {@link #FLINK_VERSIONS_ADDED_BY_OPERATOR_1_15}; the schema is
 * widened by those values and nothing else, and a test proves that other values (older, newer, misspelt) still fail.
 * Other differences between the 1.10 and the 1.15 schemas do not matter for this file: every field it uses exists in
 * both, and {@code flinkConfiguration} holds only strings (1.10: a string map; 1.15: any YAML).
 *
 * <p>The other manifests are parsed as YAML and their cross references checked: the PodMonitors select the labels
 * the operator puts on the pods and name ports the pod templates declare, with the numbers of
 * {@code metrics.reporter.prom.port} and {@code inflow.metrics.port}; every secret key the Kafka settings read exists
 * in the example Secret; the GPU request agrees with Flink's external resource settings; every {@code inflow.*} key
 * is known and parses.
 */
class KubernetesManifestsTest {

    /**
     * The {@code flinkVersion} values operator 1.15 accepts beyond operator 1.10's (release-1.15 branch of
     * apache/flink-kubernetes-operator, {@code FlinkVersion.java}: {@code v1_13 .. v1_20, v2_0 .. v2_4}).
     */
    static final List<String> FLINK_VERSIONS_ADDED_BY_OPERATOR_1_15 = List.of("v2_0", "v2_1", "v2_2", "v2_3", "v2_4");

    private static final Path KUBERNETES = Path.of("..", "deploy", "kubernetes");
    private static final Path CRD = Path.of("target", "operator-crds", "META-INF", "fabric8",
            "flinkdeployments.flink.apache.org-v1.yml");
    private static final String CRD_VERSION = "v1beta1";
    private static final String MAIN_CONTAINER = "flink-main-container";
    private static final Pattern SECRET_PLACEHOLDER = Pattern.compile("\\$\\{(\\w+):([^:}]+):([^}]+)}");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static JsonNode crd;
    private static JsonNode deployment;
    private static JsonSchema widenedSchema;

    @BeforeAll
    static void load() throws IOException {
        assertThat(CRD).as("unpacked by maven-dependency-plugin (generate-test-resources)").exists();
        crd = YAML.readTree(CRD.toFile());
        deployment = YAML.readTree(KUBERNETES.resolve("flinkdeployment.yaml").toFile());
        widenedSchema = schema(FLINK_VERSIONS_ADDED_BY_OPERATOR_1_15);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The FlinkDeployment against the CRD

    @Test
    void flinkDeploymentIsValidAgainstTheOperatorCrd() {
        assertThat(deployment.path("apiVersion").asText())
                .isEqualTo(crd.at("/spec/group").asText() + "/" + CRD_VERSION);
        assertThat(deployment.path("kind").asText()).isEqualTo(crd.at("/spec/names/kind").asText());
        assertThat(messages(widenedSchema, deployment)).isEmpty();
        assertThat(deployment.at("/spec/flinkVersion").asText()).isEqualTo("v2_2");
    }

    @Test
    void crdOfOperator110StopsAtFlink120AndTheWideningAddsExactlyOperator115sValues() {
        ArrayNode enumOf110 = (ArrayNode) flinkVersionSchema(openApiSchema()).get("enum");
        List<String> values = new ArrayList<>();
        enumOf110.forEach(v -> values.add(v.asText()));
        assertThat(values).last().isEqualTo("v1_20");
        assertThat(values).doesNotContainAnyElementsOf(FLINK_VERSIONS_ADDED_BY_OPERATOR_1_15);

        // Without the widening the file is rejected for its flinkVersion alone.
        Set<String> unwidened = messages(schema(List.of()), deployment);
        assertThat(unwidened).hasSize(1);
        assertThat(unwidened.iterator().next()).contains("flinkVersion");

        // With it every 1.15 value passes and nothing else does.
        for (String version : FLINK_VERSIONS_ADDED_BY_OPERATOR_1_15) {
            assertThat(messages(widenedSchema, withFlinkVersion(version))).as(version).isEmpty();
        }
        for (String version : List.of("v2_5", "v3_0", "v2_2_1", "2.2", "V2_2", "v1_12", "")) {
            assertThat(messages(widenedSchema, withFlinkVersion(version))).as(version)
                    .anySatisfy(m -> assertThat(m).contains("flinkVersion"));
        }
    }

    @Test
    void misspeltFieldFails() {
        ObjectNode spec = (ObjectNode) deployment.deepCopy().get("spec");
        spec.set("taskManger", spec.remove("taskManager"));
        assertThat(messages(widenedSchema, root(spec))).anySatisfy(m -> assertThat(m).contains("taskManger"));
    }

    @Test
    void misspeltFieldInsideThePodTemplateFails() {
        JsonNode copy = deployment.deepCopy();
        ObjectNode container = (ObjectNode) copy.at("/spec/taskManager/podTemplate/spec/containers/0");
        container.set("volumeMount", container.remove("volumeMounts"));
        assertThat(messages(widenedSchema, copy)).anySatisfy(m -> assertThat(m).contains("volumeMount"));
    }

    @Test
    void wrongTypeFails() {
        JsonNode copy = deployment.deepCopy();
        ((ObjectNode) copy.at("/spec/job")).put("parallelism", "40");
        assertThat(messages(widenedSchema, copy)).anySatisfy(m -> assertThat(m).contains("parallelism"));

        JsonNode numberInConfig = deployment.deepCopy();
        ((ObjectNode) numberInConfig.at("/spec/flinkConfiguration")).put("taskmanager.numberOfTaskSlots", 4);
        assertThat(messages(widenedSchema, numberInConfig)).as("1.10 types flinkConfiguration as string -> string")
                .anySatisfy(m -> assertThat(m).contains("taskmanager.numberOfTaskSlots"));
    }

    @Test
    void valueOutsideAnEnumFails() {
        JsonNode copy = deployment.deepCopy();
        ((ObjectNode) copy.at("/spec/job")).put("upgradeMode", "savepoints");
        assertThat(messages(widenedSchema, copy)).anySatisfy(m -> assertThat(m).contains("upgradeMode"));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Cross references between the manifests

    @Test
    void podMonitorsSelectTheOperatorsPodsAndNameDeclaredPortsWithTheConfiguredNumbers() throws IOException {
        Map<String, String> config = flinkConfiguration();
        Map<String, Integer> expectedPort = Map.of(
                "flink-metrics", Integer.parseInt(config.get("metrics.reporter.prom.port")),
                "inflow-metrics", Integer.parseInt(config.get("inflow.metrics.port")));
        String clusterId = deployment.at("/metadata/name").asText();
        Map<String, Map<String, String>> podLabels = Map.of(
                "jobManager", Map.of("app", clusterId, "type", "flink-native-kubernetes", "component", "jobmanager"),
                "taskManager", Map.of("app", clusterId, "type", "flink-native-kubernetes", "component", "taskmanager"));

        List<JsonNode> monitors = documents(KUBERNETES.resolve("podmonitors.yaml"));
        assertThat(monitors).hasSize(2);
        Set<String> jobs = new LinkedHashSet<>();
        for (JsonNode monitor : monitors) {
            assertThat(monitor.path("apiVersion").asText()).isEqualTo("monitoring.coreos.com/v1");
            assertThat(monitor.path("kind").asText()).isEqualTo("PodMonitor");
            assertThat(monitor.at("/metadata/namespace").asText()).isEqualTo(deployment.at("/metadata/namespace").asText());
            Map<String, String> selector = strings(monitor.at("/spec/selector/matchLabels"));
            List<String> selected = podLabels.entrySet().stream()
                    .filter(e -> e.getValue().entrySet().containsAll(selector.entrySet()))
                    .map(Map.Entry::getKey).sorted().collect(Collectors.toList());
            assertThat(selected).as(monitor.at("/metadata/name").asText() + " selects pods").isNotEmpty();
            for (JsonNode endpoint : monitor.at("/spec/podMetricsEndpoints")) {
                String port = endpoint.path("port").asText();
                assertThat(expectedPort).containsKey(port);
                for (String role : selected) {
                    assertThat(containerPorts(role)).as(role + " declares port " + port)
                            .containsEntry(port, expectedPort.get(port));
                }
                for (JsonNode relabel : endpoint.path("relabelings")) {
                    if (relabel.path("targetLabel").asText().equals("job")) {
                        jobs.add(relabel.path("replacement").asText());
                    }
                }
                if (port.equals("inflow-metrics")) {
                    assertThat(selected).containsExactly("taskManager");
                    assertThat(endpoint.path("honorLabels").asBoolean()).as("job label stays the Flink job").isTrue();
                }
            }
        }
        // the scrape job names deploy/prometheus uses (its rules select up{job=~"inflow|flink"})
        assertThat(jobs).containsExactlyInAnyOrder("flink", "inflow");
        assertThat(Files.readString(Path.of("..", "deploy", "prometheus", "rules", "inflow-alerts.rules.yml")))
                .contains("up{job=~\"inflow|flink\"}");
    }

    @Test
    void kafkaCredentialsComeOnlyFromTheMountedSecretAndItsKeysExist() throws IOException {
        JsonNode secret = YAML.readTree(KUBERNETES.resolve("secret-kafka-sasl.example.yaml").toFile());
        assertThat(secret.path("kind").asText()).isEqualTo("Secret");
        Set<String> secretKeys = strings(secret.path("stringData")).keySet();
        String secretName = secret.at("/metadata/name").asText();

        Map<String, String> config = flinkConfiguration();
        String prefix = KafkaOptionsKeys.PROPERTIES;
        Map<String, String> providers = new HashMap<>();
        for (String alias : config.getOrDefault(prefix + "config.providers", "").split(",")) {
            providers.put(alias.trim(), config.get(prefix + "config.providers." + alias.trim() + ".class"));
        }

        Set<String> mountPaths = new LinkedHashSet<>();
        for (String role : List.of("jobManager", "taskManager")) {
            mountPaths.add(secretMountPath(role, secretName));
        }
        assertThat(mountPaths).as("the Kafka secret is mounted at one path in the JobManager and the TaskManagers")
                .hasSize(1).doesNotContainNull();
        String mountPath = mountPaths.iterator().next();

        int placeholders = 0;
        for (Map.Entry<String, String> e : config.entrySet()) {
            String value = e.getValue();
            Matcher m = SECRET_PLACEHOLDER.matcher(value);
            while (m.find()) {
                placeholders++;
                assertThat(e.getKey()).startsWith(prefix);
                assertThat(providers.get(m.group(1))).as("provider " + m.group(1))
                        .isEqualTo("org.apache.kafka.common.config.provider.DirectoryConfigProvider");
                assertThat(m.group(2)).isEqualTo(mountPath);
                assertThat(secretKeys).as(e.getKey()).contains(m.group(3));
            }
            if (value.startsWith(mountPath + "/")) {
                assertThat(secretKeys).as(e.getKey()).contains(value.substring(mountPath.length() + 1));
            }
            // no literal secret in the FlinkDeployment: every password= is a placeholder
            Matcher password = Pattern.compile("password\\s*=\\s*\"?([^\";]*)").matcher(value);
            while (password.find()) {
                assertThat(password.group(1)).as(e.getKey()).startsWith("${");
            }
        }
        assertThat(placeholders).isEqualTo(2);
        assertThat(config.get(prefix + "sasl.jaas.config")).contains("${secrets:" + mountPath + ":username}");

        JsonNode kustomization = YAML.readTree(KUBERNETES.resolve("kustomization.yaml").toFile());
        assertThat(texts(kustomization.path("resources"))).doesNotContain("secret-kafka-sasl.example.yaml");
    }

    @Test
    void gpuRequestAgreesWithFlinksExternalResourceSettings() {
        Map<String, String> config = flinkConfiguration();
        assertThat(config.get("external-resources").split(";")).contains("gpu");
        assertThat(config.get("external-resource.gpu.driver-factory.class"))
                .isEqualTo("org.apache.flink.externalresource.gpu.GPUDriverFactory");
        String resourceName = config.get("external-resource.gpu.kubernetes.config-key");
        assertThat(resourceName).isEqualTo("nvidia.com/gpu");
        JsonNode taskManagerLimits = mainContainer("taskManager").at("/resources/limits");
        assertThat(taskManagerLimits.path(resourceName).asText())
                .isEqualTo(config.get("external-resource.gpu.amount")).isEqualTo("1");
        assertThat(mainContainer("jobManager").at("/resources/limits").has(resourceName)).isFalse();
        assertThat(config.get("external-resource.gpu.param.discovery-script.path"))
                .isEqualTo("/opt/flink/plugins/external-resource-gpu/nvidia-gpu-discovery.sh");
        assertThat(config.get("inflow.compute.backend")).isEqualTo("CUDA");
        assertThat(deployment.at("/spec/job/parallelism").asInt()).isEqualTo(
                deployment.at("/spec/taskManager/replicas").asInt()
                        * Integer.parseInt(config.get("taskmanager.numberOfTaskSlots")));
    }

    @Test
    void kustomizationListsExistingFilesAndRewritesTheImage() throws IOException {
        JsonNode kustomization = YAML.readTree(KUBERNETES.resolve("kustomization.yaml").toFile());
        String namespace = kustomization.path("namespace").asText();
        for (String file : concat(texts(kustomization.path("resources")), texts(kustomization.path("configurations")))) {
            assertThat(KUBERNETES.resolve(file)).exists();
        }
        for (String file : texts(kustomization.path("resources"))) {
            for (JsonNode object : documents(KUBERNETES.resolve(file))) {
                String ns = object.path("kind").asText().equals("Namespace")
                        ? object.at("/metadata/name").asText() : object.at("/metadata/namespace").asText();
                assertThat(ns).as(file).isEqualTo(namespace);
            }
        }
        String image = deployment.at("/spec/image").asText();
        assertThat(kustomization.at("/images/0/name").asText()).isEqualTo(image.substring(0, image.lastIndexOf(':')));
        JsonNode imageConfig = YAML.readTree(KUBERNETES.resolve("kustomizeconfig.yaml").toFile());
        assertThat(imageConfig.at("/images/0/path").asText()).isEqualTo("spec/image");
        assertThat(imageConfig.at("/images/0/kind").asText()).isEqualTo("FlinkDeployment");
    }

    @Test
    void jobJarAndEntryClassMatchTheImage() throws Exception {
        String dockerfile = Files.readString(KUBERNETES.resolve("Dockerfile"));
        assertThat(dockerfile).containsPattern("ARG FLINK_IMAGE=flink:2\\.2[-.]");
        String jarUri = deployment.at("/spec/job/jarURI").asText();
        assertThat(jarUri).startsWith("local://");
        assertThat(dockerfile).containsPattern("COPY .*\\$\\{JOB_JAR} " + Pattern.quote(jarUri.substring("local://".length())));
        Method main = Class.forName(deployment.at("/spec/job/entryClass").asText()).getMethod("main", String[].class);
        assertThat(Modifier.isStatic(main.getModifiers())).isTrue();
    }

    @Test
    void inflowKeysAreKnownAndTheirValuesParse() throws Exception {
        Map<String, String> settings = new LinkedHashMap<>(flinkConfiguration());
        for (String arg : texts(deployment.at("/spec/job/args"))) {
            assertThat(arg).startsWith("-D").contains("=");
            settings.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        Configuration config = Configuration.fromMap(settings);
        KnownKeys.check(config);
        int parsed = 0;
        for (Class<?> options : KnownKeys.OPTION_CLASSES) {
            for (Field field : options.getFields()) {
                if (Modifier.isStatic(field.getModifiers()) && ConfigOption.class.isAssignableFrom(field.getType())) {
                    ConfigOption<?> option = (ConfigOption<?>) field.get(null);
                    if (settings.containsKey(option.key())) {
                        config.get(option); // throws on a value of the wrong type or unit
                        parsed++;
                    }
                }
            }
        }
        long inflowKeys = settings.keySet().stream()
                .filter(k -> k.startsWith("inflow.") && !k.startsWith(KafkaOptionsKeys.PROPERTIES)).count();
        assertThat(parsed).isEqualTo((int) inflowKeys);
        assertThat(config.get(PipelineOptions.COMPUTE_BACKEND)).isEqualTo(BackendKind.CUDA);
    }

    @Test
    void checkpointSettingsKeepKafkaTransactionsWithinTheirTimeout() {
        Configuration config = Configuration.fromMap(flinkConfiguration());
        // the deployment's own checkpoint keys, as the job applies them (CheckpointPolicy would refuse 10 min)
        CheckpointPolicy.check(config.get(CheckpointingOptions.CHECKPOINTING_INTERVAL).toMillis(),
                config.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT).toMillis(),
                config.get(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER), DeliveryGuarantee.EXACTLY_ONCE,
                config.get(KafkaOptions.TRANSACTION_TIMEOUT));
        assertThatThrownBy(() -> CheckpointPolicy.check(10_000, Duration.ofMinutes(10).toMillis(), 3,
                DeliveryGuarantee.EXACTLY_ONCE, config.get(KafkaOptions.TRANSACTION_TIMEOUT)))
                .hasMessageContaining("could stay open");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Schema preparation

    /** The CRD's schema as the API server applies it, {@code flinkVersion}'s enum widened by {@code extraVersions}. */
    static JsonSchema schema(List<String> extraVersions) {
        ObjectNode schema = openApiSchema();
        ArrayNode versions = (ArrayNode) flinkVersionSchema(schema).get("enum");
        extraVersions.forEach(versions::add);
        // apiVersion, kind and metadata are implicit at the root of every custom resource
        ObjectNode properties = (ObjectNode) schema.get("properties");
        properties.set("apiVersion", type("string"));
        properties.set("kind", type("string"));
        ObjectNode metadata = type("object");
        ObjectNode metadataProperties = metadata.putObject("properties");
        metadataProperties.set("name", type("string"));
        metadataProperties.set("namespace", type("string"));
        metadataProperties.set("labels", type("object").set("additionalProperties", type("string")));
        metadataProperties.set("annotations", type("object").set("additionalProperties", type("string")));
        properties.set("metadata", metadata);
        closeObjects(schema);
        stripKubernetesExtensions(schema);
        return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(schema);
    }

    private static ObjectNode openApiSchema() {
        for (JsonNode version : crd.at("/spec/versions")) {
            if (version.path("name").asText().equals(CRD_VERSION)) {
                return (ObjectNode) version.at("/schema/openAPIV3Schema").deepCopy();
            }
        }
        throw new AssertionError("no version " + CRD_VERSION + " in " + CRD);
    }

    private static ObjectNode flinkVersionSchema(JsonNode schema) {
        return (ObjectNode) schema.at("/properties/spec/properties/flinkVersion");
    }

    /** additionalProperties: false on every object schema with properties and no rule for unknown fields. */
    static void closeObjects(JsonNode node) {
        if (!(node instanceof ObjectNode)) {
            return;
        }
        ObjectNode schema = (ObjectNode) node;
        JsonNode properties = schema.get("properties");
        if (properties instanceof ObjectNode) {
            properties.forEach(KubernetesManifestsTest::closeObjects);
            if (!schema.has("additionalProperties") && !schema.path("x-kubernetes-preserve-unknown-fields").asBoolean()) {
                schema.put("additionalProperties", false);
            }
        }
        closeObjects(schema.get("items"));
        closeObjects(schema.get("additionalProperties"));
        for (String combinator : List.of("anyOf", "allOf", "oneOf")) {
            JsonNode alternatives = schema.get(combinator);
            if (alternatives != null) {
                alternatives.forEach(KubernetesManifestsTest::closeObjects);
            }
        }
    }

    /** x-kubernetes-* are annotations for the API server, not JSON Schema keywords. */
    static void stripKubernetesExtensions(JsonNode node) {
        if (node instanceof ObjectNode) {
            ObjectNode object = (ObjectNode) node;
            Iterator<String> names = object.fieldNames();
            while (names.hasNext()) {
                if (names.next().startsWith("x-kubernetes-")) {
                    names.remove();
                }
            }
            object.forEach(KubernetesManifestsTest::stripKubernetesExtensions);
        } else if (node instanceof ArrayNode) {
            node.forEach(KubernetesManifestsTest::stripKubernetesExtensions);
        }
    }

    private static ObjectNode type(String type) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("type", type);
        return node;
    }

    private static Set<String> messages(JsonSchema schema, JsonNode document) {
        return schema.validate(document).stream().map(ValidationMessage::getMessage)
                .collect(Collectors.toCollection(LinkedHashSet::new));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Helpers

    /** Kafka's pass-through prefix, spelt once. */
    private static final class KafkaOptionsKeys {
        static final String PROPERTIES = io.inflow.connectors.kafka.KafkaOptions.PROPERTIES_PREFIX;
    }

    private static JsonNode withFlinkVersion(String version) {
        JsonNode copy = deployment.deepCopy();
        ((ObjectNode) copy.get("spec")).put("flinkVersion", version);
        return copy;
    }

    private static JsonNode root(ObjectNode spec) {
        ObjectNode copy = deployment.deepCopy();
        copy.set("spec", spec);
        return copy;
    }

    private static Map<String, String> flinkConfiguration() {
        JsonNode config = deployment.at("/spec/flinkConfiguration");
        config.fields().forEachRemaining(e -> assertThat(e.getValue().isTextual()).as(e.getKey()).isTrue());
        return strings(config);
    }

    private static JsonNode mainContainer(String role) {
        for (JsonNode container : deployment.at("/spec/" + role + "/podTemplate/spec/containers")) {
            if (container.path("name").asText().equals(MAIN_CONTAINER)) {
                return container;
            }
        }
        throw new AssertionError(role + " has no " + MAIN_CONTAINER + " in its pod template");
    }

    private static Map<String, Integer> containerPorts(String role) {
        Map<String, Integer> ports = new HashMap<>();
        mainContainer(role).path("ports").forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
        return ports;
    }

    /** Where {@code role}'s main container mounts the Secret {@code secretName}, or null. */
    private static String secretMountPath(String role, String secretName) {
        String volume = null;
        for (JsonNode v : deployment.at("/spec/" + role + "/podTemplate/spec/volumes")) {
            if (v.at("/secret/secretName").asText().equals(secretName)) {
                volume = v.path("name").asText();
            }
        }
        for (JsonNode mount : mainContainer(role).path("volumeMounts")) {
            if (mount.path("name").asText().equals(volume)) {
                assertThat(mount.path("readOnly").asBoolean()).isTrue();
                return mount.path("mountPath").asText();
            }
        }
        return null;
    }

    private static List<JsonNode> documents(Path file) throws IOException {
        List<JsonNode> documents = new ArrayList<>();
        try (YAMLParser parser = new YAMLFactory().createParser(file.toFile())) {
            Iterator<JsonNode> it = YAML.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode document = it.next();
                if (document != null && !document.isNull() && !document.isMissingNode()) {
                    documents.add(document);
                }
            }
        }
        return documents;
    }

    private static Map<String, String> strings(JsonNode object) {
        Map<String, String> map = new LinkedHashMap<>();
        object.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
        return map;
    }

    private static List<String> texts(JsonNode array) {
        List<String> list = new ArrayList<>();
        array.forEach(n -> list.add(n.asText()));
        return list;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
