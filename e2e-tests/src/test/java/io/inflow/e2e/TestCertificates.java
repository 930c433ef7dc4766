package io.inflow.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away CA and a broker certificate it signed, made at test time with the running JDK's {@code keytool}
 * (nothing checked in, nothing from outside): the broker's PKCS12 key store (key + chain, for 127.0.0.1 and
 * localhost), a PKCS12 trust store with the CA for Java clients and the CA as PEM for librdkafka clients (kcat).
 *
 * <p>{@code TestCertificates certs = TestCertificates.create(dir, storePassword);}
 *
 * @param brokerKeyStore the broker's key store (PKCS12, {@code password})
 * @param trustStore the CA only (PKCS12, {@code password})
 * @param caPem the CA certificate, PEM
 */
record TestCertificates(Path brokerKeyStore, Path trustStore, Path caPem, String password) {

    static TestCertificates create(Path dir, String password) throws Exception {
        Files.createDirectories(dir);
        Path ca = dir.resolve("ca.p12");
        Path caPem = dir.resolve("ca.pem");
        Path broker = dir.resolve("broker.p12");
        Path csr = dir.resolve("broker.csr");
        Path brokerPem = dir.resolve("broker.pem");
        Path trust = dir.resolve("truststore.p12");
        String[] store = {"-storetype", "PKCS12", "-storepass", password};
        keytool(store, "-genkeypair", "-alias", "ca", "-dname", "CN=Inflow test CA", "-keyalg", "EC",
                "-groupname", "secp256r1", "-validity", "2", "-ext", "bc:c", "-keystore", ca.toString());
        keytool(store, "-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-file", caPem.toString());
        keytool(store, "-genkeypair", "-alias", "broker", "-dname", "CN=localhost", "-keyalg", "EC",
                "-groupname", "secp256r1", "-validity", "2", "-keystore", broker.toString());
        keytool(store, "-certreq", "-alias", "broker", "-keystore", broker.toString(), "-file", csr.toString());
        keytool(store, "-gencert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-infile", csr.toString(),
                "-outfile", brokerPem.toString(), "-validity", "2", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-ext", "EKU=serverAuth,clientAuth");
        keytool(store, "-importcert", "-noprompt", "-alias", "ca", "-keystore", broker.toString(), "-file",
                caPem.toString());
        keytool(store, "-importcert", "-noprompt", "-alias", "broker", "-keystore", broker.toString(), "-file",
                brokerPem.toString());
        keytool(store, "-importcert", "-noprompt", "-alias", "ca", "-keystore", trust.toString(), "-file",
                caPem.toString());
        return new TestCertificates(broker, trust, caPem, password);
    }

    private static void keytool(String[] store, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        cmd.addAll(List.of(store));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool " + args[0] + " failed: " + out);
        }
    }
}
