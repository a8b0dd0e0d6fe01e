package dev.triage.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * TLS material made with the JDK's {@code keytool} at start-up, as an operator would: a private CA,
 * a broker key pair whose certificate the CA signed for {@code localhost} and {@code 127.0.0.1},
 * and the CA certificate as a PEM file for clients to trust. Nothing is committed; every run makes
 * new keys.
 */
public final class TestCertificates {

    /** The broker's key store (PKCS12: its key, its certificate and the CA's). */
    public final Path brokerKeyStore;

    /** Password of {@link #brokerKeyStore} (and of the key in it). */
    public final String brokerKeyStorePassword;

    /** The CA certificate, PEM: what a client's {@code ssl.truststore.location} points at. */
    public final Path caCertificatePem;

    private TestCertificates(Path brokerKeyStore, String password, Path caPem) {
        this.brokerKeyStore = brokerKeyStore;
        this.brokerKeyStorePassword = password;
        this.caCertificatePem = caPem;
    }

    /** Makes a CA and a broker certificate it signed, in {@code dir} (created if missing). */
    public static TestCertificates create(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        String password = randomSecret();
        Path caStore = dir.resolve("ca.p12");
        Path brokerStore = dir.resolve("broker.p12");
        Path csr = dir.resolve("broker.csr");
        Path brokerCert = dir.resolve("broker.crt");
        Path caPem = dir.resolve("ca.pem");
        // EC keys: generated in milliseconds, unlike RSA.
        keytool(
                "-genkeypair",
                "-alias",
                "ca",
                "-dname",
                "CN=triage test CA",
                "-ext",
                "bc:c",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-validity",
                "2",
                "-keystore",
                caStore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                password);
        keytool(
                "-exportcert",
                "-rfc",
                "-alias",
                "ca",
                "-keystore",
                caStore.toString(),
                "-storepass",
                password,
                "-file",
                caPem.toString());
        keytool(
                "-genkeypair",
                "-alias",
                "broker",
                "-dname",
                "CN=localhost",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-validity",
                "2",
                "-keystore",
                brokerStore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                password);
        keytool(
                "-certreq",
                "-alias",
                "broker",
                "-keystore",
                brokerStore.toString(),
                "-storepass",
                password,
                "-file",
                csr.toString());
        keytool(
                "-gencert",
                "-alias",
                "ca",
                "-keystore",
                caStore.toString(),
                "-storepass",
                password,
                "-infile",
                csr.toString(),
                "-outfile",
                brokerCert.toString(),
                "-rfc",
                "-validity",
                "2",
                "-ext",
                "san=dns:localhost,ip:127.0.0.1",
                "-ext",
                "eku=serverAuth");
        // The chain: the CA first, so that the signed certificate replaces the self-signed one.
        keytool(
                "-importcert",
                "-noprompt",
                "-alias",
                "ca",
                "-file",
                caPem.toString(),
                "-keystore",
                brokerStore.toString(),
                "-storepass",
                password);
        keytool(
                "-importcert",
                "-alias",
                "broker",
                "-file",
                brokerCert.toString(),
                "-keystore",
                brokerStore.toString(),
                "-storepass",
                password);
        Files.delete(csr);
        return new TestCertificates(brokerStore, password, caPem);
    }

    /** 32 hex digits from a secure random source: passwords for test users and key stores. */
    public static String randomSecret() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("keytool " + args[0] + " did not finish within 60 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException(
                    "keytool " + args[0] + " failed (exit " + p.exitValue() + "): " + output);
        }
    }
}
