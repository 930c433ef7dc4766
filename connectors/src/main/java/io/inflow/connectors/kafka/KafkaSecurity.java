package io.inflow.connectors.kafka;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.JaasContext;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

import javax.security.auth.login.AppConfigurationEntry;

/**
 * Start-time checks of the Kafka client security settings ({@code inflow.kafka.properties.*}): a setting every
 * client would trip over (an unknown security protocol, SASL without a JAAS login, a SCRAM login without a password,
 * an unreadable trust store or a wrong store password, a mistyped key) fails before any client is built, with the
 * full key to change. Messages never contain a value of a secret key ({@link #isSecret}).
 *
 * <p>{@code KafkaSecurity.check(extraProperties); // IllegalArgumentException naming inflow.kafka.properties.<key>}
 */
final class KafkaSecurity {

    static final String JAAS = "sasl.jaas.config";
    static final String PROTOCOL = "security.protocol";
    static final String MECHANISM = "sasl.mechanism";

    /** Login module each built-in SASL mechanism needs. */
    private static final Map<String, String> LOGIN_MODULES = Map.of(
            "PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule",
            "SCRAM-SHA-256", "org.apache.kafka.common.security.scram.ScramLoginModule",
            "SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule",
            "OAUTHBEARER", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule");

    /** The value of a password-like option inside a JAAS line: {@code password="..."}. */
    private static final java.util.regex.Pattern QUOTED_SECRET = java.util.regex.Pattern.compile(
            "(?i)(?:password|secret|token)[a-z_.-]*\\s*=\\s*\"([^\"]*)\"");

    private KafkaSecurity() {
    }

    /** Whether a client property holds a secret (the same words Flink masks in its web UI and logs). */
    static boolean isSecret(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return k.contains("password") || k.contains("jaas.config") || k.contains("secret") || k.contains("token")
                || k.endsWith(".key") || k.contains("apikey") || k.contains("api-key");
    }

    /**
     * Checks the pass-through client properties.
     *
     * @throws IllegalArgumentException naming the {@code inflow.kafka.properties.*} key to change
     */
    static void check(Properties extra) {
        Map<String, String> props = new HashMap<>();
        extra.stringPropertyNames().forEach(k -> props.put(k, extra.getProperty(k)));
        checkSpelling(props.keySet());
        // Kafka's own parsing: types, enumerations (security.protocol), config providers (${file:...}) resolved
        Map<String, Object> resolved;
        try {
            Map<String, Object> all = new HashMap<>(props);
            all.putIfAbsent(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
            resolved = new AbstractConfig(AdminClientConfig.configDef(), all, false).originals();
        } catch (ConfigException e) {
            throw new IllegalArgumentException(scrub(key("") + ": " + e.getMessage()
                    .replace("for configuration ", "for configuration " + KafkaOptions.PROPERTIES_PREFIX), props), e);
        }
        String protocol = string(resolved, PROTOCOL, "PLAINTEXT").toUpperCase(Locale.ROOT);
        if (protocol.startsWith("SASL_")) {
            checkSasl(protocol, resolved, props);
        }
        if (protocol.endsWith("SSL")) {
            checkStore(resolved, props, "ssl.truststore");
            checkStore(resolved, props, "ssl.keystore");
        }
    }

    private static void checkSasl(String protocol, Map<String, Object> resolved, Map<String, String> props) {
        String mechanism = string(resolved, MECHANISM, "GSSAPI").toUpperCase(Locale.ROOT);
        String jaas = string(resolved, JAAS, null);
        if (jaas == null || jaas.isBlank()) {
            if (System.getProperty("java.security.auth.login.config") != null) {
                return; // a JVM-wide JAAS file configures the login instead
            }
            String module = LOGIN_MODULES.getOrDefault(mechanism, "<LoginModule class>");
            throw new IllegalArgumentException(key(PROTOCOL) + " is " + protocol + " but " + key(JAAS)
                    + " is not set: Kafka clients cannot log in without it. Set it to the login module and"
                    + " credentials, e.g. -D" + KafkaOptions.PROPERTIES_PREFIX + JAAS + "='" + module + " required username=\"...\""
                    + " password=\"...\";' (or keep the secret in a file: see README, Secured Kafka)");
        }
        String literal = props.get(JAAS);
        if (literal != null && literal.contains("${") && literal.equals(jaas)) {
            return; // not resolved here (no config provider of that name): Kafka reports it when it logs in
        }
        java.util.List<AppConfigurationEntry> entries;
        try {
            entries = JaasContext.loadClientContext(Map.of(JAAS, new Password(jaas))).configurationEntries();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(scrub(key(JAAS) + " is not a JAAS login: " + e.getMessage()
                    + " (expected '<LoginModule class> required key=\"value\" ...;')", props, jaas), e);
        }
        if (entries == null || entries.size() != 1) {
            throw new IllegalArgumentException(key(JAAS) + " must hold exactly one login module (has "
                    + (entries == null ? 0 : entries.size()) + ")");
        }
        String expected = LOGIN_MODULES.get(mechanism);
        String module = entries.get(0).getLoginModuleName();
        if (expected != null && !expected.equals(module)) {
            throw new IllegalArgumentException(key(MECHANISM) + " is " + mechanism + ", which logs in with "
                    + expected + ", but " + key(JAAS) + " names " + module);
        }
        if (mechanism.equals("PLAIN") || mechanism.startsWith("SCRAM-")) {
            for (String option : new String[] {"username", "password"}) {
                Object v = entries.get(0).getOptions().get(option);
                if (v == null || v.toString().isEmpty()) {
                    throw new IllegalArgumentException(key(JAAS) + " has no " + option + "=\"...\" option, which "
                            + mechanism + " needs");
                }
            }
        }
    }

    /** A configured key or trust store must be a readable file that opens with its password. */
    private static void checkStore(Map<String, Object> resolved, Map<String, String> props, String prefix) {
        String location = string(resolved, prefix + ".location", null);
        if (location == null) {
            return;
        }
        Path file = Path.of(location);
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IllegalArgumentException(key(prefix + ".location") + " is '" + location
                    + "', which is not a readable file");
        }
        String type = string(resolved, prefix + ".type", "JKS");
        String password = string(resolved, prefix + ".password", null);
        if (!type.equalsIgnoreCase("JKS") && !type.equalsIgnoreCase("PKCS12")) {
            return; // PEM or a provider's type: Kafka checks it when the client starts
        }
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore.getInstance(type.toUpperCase(Locale.ROOT)).load(in,
                    password == null ? null : password.toCharArray());
        } catch (IOException | GeneralSecurityException e) {
            String why = e.getCause() instanceof java.security.UnrecoverableKeyException
                    || String.valueOf(e.getMessage()).contains("password")
                    ? "wrong " + key(prefix + ".password") + "?" : e.getClass().getSimpleName() + ": " + e.getMessage();
            throw new IllegalArgumentException(scrub(key(prefix + ".location") + " '" + location + "' cannot be"
                    + " opened as " + type + " (" + why + "); also check " + key(prefix + ".type"), props,
                    password), e);
        }
    }

    /** Fails on a key one or two typos away from a client property Kafka knows (e.g. sasl.jass.config). */
    private static void checkSpelling(Set<String> keys) {
        Set<String> known = new TreeSet<>();
        known.addAll(ProducerConfig.configNames());
        known.addAll(ConsumerConfig.configNames());
        known.addAll(AdminClientConfig.configNames());
        for (String k : keys) {
            if (known.contains(k) || k.startsWith("config.providers")) {
                continue;
            }
            for (String candidate : known) {
                if (Math.abs(candidate.length() - k.length()) <= 2 && distance(k, candidate) <= 2) {
                    throw new IllegalArgumentException("unknown Kafka client property " + key(k) + "; did you mean "
                            + key(candidate) + "?");
                }
            }
        }
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1),
                        Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    private static String string(Map<String, Object> m, String key, String dflt) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        String s = v instanceof Password p ? p.value() : v.toString();
        return s.strip();
    }

    private static String key(String kafkaKey) {
        return "'" + KafkaOptions.PROPERTIES_PREFIX + kafkaKey + "'";
    }

    /** {@code message} with every value of a secret property (and the extra secrets) replaced by ******. */
    static String scrub(String message, Map<String, String> props, String... more) {
        String out = message;
        for (Map.Entry<String, String> e : props.entrySet()) {
            if (isSecret(e.getKey()) && e.getValue() != null && e.getValue().length() >= 4) {
                out = out.replace(e.getValue(), "******");
                java.util.regex.Matcher m = QUOTED_SECRET.matcher(e.getValue());
                while (m.find()) {
                    if (m.group(1).length() >= 4) {
                        out = out.replace(m.group(1), "******");
                    }
                }
            }
        }
        for (String s : more) {
            if (s != null && s.length() >= 4) {
                out = out.replace(s, "******");
            }
        }
        return out;
    }
}
