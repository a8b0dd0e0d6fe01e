package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.triage.config.JobSettings;
import dev.triage.config.LlmSettings;
import dev.triage.testing.TestCertificates;
import dev.triage.testing.TestHttpProxy;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The client through a real HTTP proxy (a socket that tunnels CONNECT and forwards absolute-URI
 * requests) in front of a real HTTPS or plain HTTP endpoint: what goes through the tunnel, what the
 * proxy can read, and what a 407 does.
 */
class OpenAiChatClientProxyTest {

    private static final String KEY = "sk-proxy-test-0123456789abcdef";
    private static final List<String> TRUST_PROPERTIES =
            List.of(
                    "javax.net.ssl.trustStore",
                    "javax.net.ssl.trustStorePassword",
                    "javax.net.ssl.trustStoreType");

    private static TestCertificates certificates;
    private static final Map<String, String> savedProperties = new java.util.HashMap<>();

    private HttpServer origin;
    private TestHttpProxy proxy;
    private final List<Map<String, String>> originRequests = new CopyOnWriteArrayList<>();

    /**
     * The endpoint's certificate is signed by a private CA, trusted the way docs/security.md tells
     * an operator to: the JVM's trust store.
     */
    @BeforeAll
    static void trustTheTestCa(@TempDir Path dir) throws Exception {
        certificates = TestCertificates.create(dir.resolve("tls"));
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream pem = Files.newInputStream(certificates.caCertificatePem)) {
            Certificate ca = CertificateFactory.getInstance("X.509").generateCertificate(pem);
            trust.setCertificateEntry("triage-test-ca", ca);
        }
        Path store = dir.resolve("truststore.p12");
        char[] password = "changeit".toCharArray();
        try (OutputStream out = Files.newOutputStream(store)) {
            trust.store(out, password);
        }
        for (String p : TRUST_PROPERTIES) {
            savedProperties.put(p, System.getProperty(p));
        }
        System.setProperty("javax.net.ssl.trustStore", store.toString());
        System.setProperty("javax.net.ssl.trustStorePassword", "changeit");
        System.setProperty("javax.net.ssl.trustStoreType", "PKCS12");
    }

    @AfterAll
    static void restoreTrust() {
        savedProperties.forEach(
                (k, v) -> {
                    if (v == null) {
                        System.clearProperty(k);
                    } else {
                        System.setProperty(k, v);
                    }
                });
    }

    @AfterEach
    void stop() throws Exception {
        if (origin != null) {
            origin.stop(0);
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    /** An HTTPS endpoint for {@code localhost}, with the CA-signed certificate. */
    private String httpsOrigin() throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        char[] password = certificates.brokerKeyStorePassword.toCharArray();
        try (InputStream in = Files.newInputStream(certificates.brokerKeyStore)) {
            keys.load(in, password);
        }
        KeyManagerFactory kmf =
                KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(tls));
        origin = https;
        answerChatCompletions();
        return "https://localhost:" + origin.getAddress().getPort() + "/v1";
    }

    private String plainOrigin() throws Exception {
        origin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        answerChatCompletions();
        return "http://127.0.0.1:" + origin.getAddress().getPort() + "/v1";
    }

    private void answerChatCompletions() {
        origin.createContext(
                "/",
                exchange -> {
                    Map<String, String> seen = new java.util.TreeMap<>();
                    seen.put("path", exchange.getRequestURI().getPath());
                    exchange.getRequestHeaders()
                            .forEach((k, v) -> seen.put(k.toLowerCase(), String.join(",", v)));
                    originRequests.add(seen);
                    exchange.getRequestBody().readAllBytes();
                    byte[] bytes =
                            OpenAiChatClientTest.completion("{\"category\":\"billing\"}", "stop")
                                    .getBytes(StandardCharsets.UTF_8);
                    exchange.sendResponseHeaders(200, bytes.length);
                    exchange.getResponseBody().write(bytes);
                    exchange.close();
                });
        origin.start();
    }

    private static LlmSettings settings(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("llm.request-timeout=10s"));
        all.addAll(List.of(args));
        return LlmSettings.primary(JobSettings.fromArgs(all.toArray(String[]::new)));
    }

    private static LlmReply call(OpenAiChatClient client) throws Exception {
        return client.complete(List.of(ChatMessage.user("Where is my refund?")), null).get();
    }

    @Test
    void anHttpsEndpointIsReachedThroughOneConnectTunnelAndTheProxySeesNoKey() throws Exception {
        String base = httpsOrigin();
        proxy = TestHttpProxy.open();
        LlmSettings s = settings("llm.base-url=" + base, "llm.proxy.url=" + proxy.url());
        try (var client = new OpenAiChatClient(s, KEY)) {
            assertThat(call(client).content()).contains("billing");
            assertThat(call(client).content()).as("a second call").contains("billing");
        }
        int port = origin.getAddress().getPort();
        assertThat(proxy.seen())
                .as("one tunnel, reused by the second call")
                .extracting(TestHttpProxy.Seen::requestLine)
                .containsExactly("CONNECT localhost:" + port + " HTTP/1.1");
        assertThat(proxy.seen().get(0).header("Authorization")).isNull();
        assertThat(originRequests).hasSize(2);
        assertThat(originRequests.get(0))
                .containsEntry("path", "/v1/chat/completions")
                .containsEntry("authorization", "Bearer " + KEY);
        String proxySaw = new String(proxy.bytesFromClients(), StandardCharsets.ISO_8859_1);
        assertThat(proxySaw)
                .as("everything after CONNECT is TLS: no key, no prompt")
                .doesNotContain(KEY)
                .doesNotContain("Where is my refund")
                .doesNotContainIgnoringCase("authorization: bearer");
    }

    @Test
    void aPlainHttpEndpointIsReachedThroughTheProxyWithAnAbsoluteUri() throws Exception {
        String base = plainOrigin();
        proxy = TestHttpProxy.open();
        LlmSettings s =
                settings("llm.base-url=" + base, "llm.proxy.url=" + proxy.url(), "llm.auth=NONE");
        try (var client = new OpenAiChatClient(s, null)) {
            assertThat(call(client).content()).contains("billing");
        }
        assertThat(proxy.seen())
                .extracting(TestHttpProxy.Seen::requestLine)
                .containsExactly("POST " + base + "/chat/completions HTTP/1.1");
        assertThat(originRequests).hasSize(1);
        assertThat(originRequests.get(0)).containsEntry("path", "/v1/chat/completions");
    }

    @Test
    void aProxyThatWantsCredentialsAnswers407OnceAndTheClientNeitherRetriesNorSendsTheCall()
            throws Exception {
        String base = httpsOrigin();
        proxy = TestHttpProxy.requiringBasic("triage", "proxy-pass-1");
        LlmSettings s = settings("llm.base-url=" + base, "llm.proxy.url=" + proxy.url());
        Throwable thrown;
        try (var client = new OpenAiChatClient(s, KEY)) {
            thrown = catchThrowable(() -> call(client));
        }
        assertThat(thrown).hasCauseInstanceOf(LlmException.class);
        LlmException e = (LlmException) thrown.getCause();
        assertThat(e.kind()).isEqualTo(LlmException.Kind.HTTP_STATUS);
        assertThat(e.status()).isEqualTo(407);
        assertThat(e.retriable()).isFalse();
        assertThat(e.getMessage()).contains("proxy").contains("llm.proxy.username");
        assertThat(LlmGateway.rejectsEveryRequest(e))
                .as("like a rejected key: the circuit opens, tickets wait")
                .isTrue();
        assertThat(proxy.refused()).as("no retry by the HTTP client").isEqualTo(1);
        assertThat(originRequests).isEmpty();
    }

    @Test
    void wrongProxyCredentialsAre407WithoutARetry(@TempDir Path dir) throws Exception {
        String base = httpsOrigin();
        proxy = TestHttpProxy.requiringBasic("triage", "proxy-pass-1");
        Path password = dir.resolve("proxy-password");
        Files.writeString(password, "not-the-password\n");
        LlmSettings s =
                settings(
                        "llm.base-url=" + base,
                        "llm.proxy.url=" + proxy.url(),
                        "llm.proxy.username=triage",
                        "llm.proxy.password-file=" + password);
        Throwable thrown;
        try (var client = new OpenAiChatClient(s, KEY)) {
            thrown = catchThrowable(() -> call(client));
        }
        assertThat(thrown).isInstanceOf(java.util.concurrent.ExecutionException.class);
        assertThat(((LlmException) thrown.getCause()).status()).isEqualTo(407);
        assertThat(proxy.refused()).isEqualTo(1);
        assertThat(proxy.seen()).hasSize(1);
        assertThat(thrown.getCause().getMessage()).doesNotContain("not-the-password");
    }

    @Test
    void proxyCredentialsFromAFileReachTheProxyOnConnectAndNeverTheOrigin(@TempDir Path dir)
            throws Exception {
        String base = httpsOrigin();
        proxy = TestHttpProxy.requiringBasic("triage", "proxy-pass-1");
        Path password = dir.resolve("proxy-password");
        Files.writeString(password, "proxy-pass-1\n");
        LlmSettings s =
                settings(
                        "llm.base-url=" + base,
                        "llm.proxy.url=" + proxy.url(),
                        "llm.proxy.username=triage",
                        "llm.proxy.password-file=" + password);
        assertThat(s.toString()).doesNotContain("proxy-pass-1");
        try (var client = new OpenAiChatClient(s, KEY)) {
            assertThat(call(client).content()).contains("billing");
        }
        String basic =
                "Basic "
                        + Base64.getEncoder()
                                .encodeToString(
                                        "triage:proxy-pass-1".getBytes(StandardCharsets.UTF_8));
        assertThat(proxy.refused()).as("sent at once, not after a 407").isZero();
        assertThat(proxy.seen()).hasSize(1);
        assertThat(proxy.seen().get(0).method()).isEqualTo("CONNECT");
        assertThat(proxy.seen().get(0).header("Proxy-Authorization")).isEqualTo(basic);
        assertThat(originRequests).hasSize(1);
        assertThat(originRequests.get(0))
                .containsEntry("authorization", "Bearer " + KEY)
                .doesNotContainKey("proxy-authorization");
    }

    @Test
    void aProxyPasswordFileThatCannotBeReadFailsWhenTheClientIsMadeNamingTheFile(@TempDir Path dir)
            throws Exception {
        Path missing = dir.resolve("no-such-password");
        LlmSettings s =
                settings(
                        "llm.base-url=https://api.example.invalid/v1",
                        "llm.proxy.url=http://127.0.0.1:3128",
                        "llm.proxy.username=triage",
                        "llm.proxy.password-file=" + missing);
        assertThat(catchThrowable(() -> new OpenAiChatClient(s, KEY).close()))
                .isInstanceOf(java.io.UncheckedIOException.class)
                .hasMessageContaining("proxy password file")
                .hasMessageContaining(missing.toString());
    }

    @Test
    void aProxyThatCannotBeReachedIsARetriedTransportFailure() throws Exception {
        String base = httpsOrigin();
        int closedPort;
        try (var socket = new java.net.ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        LlmSettings s =
                settings("llm.base-url=" + base, "llm.proxy.url=http://127.0.0.1:" + closedPort);
        Throwable thrown;
        try (var client = new OpenAiChatClient(s, KEY)) {
            thrown = catchThrowable(() -> call(client));
        }
        assertThat(thrown).isInstanceOf(java.util.concurrent.ExecutionException.class);
        LlmException e = (LlmException) thrown.getCause();
        assertThat(e.kind()).isEqualTo(LlmException.Kind.TRANSPORT);
        assertThat(e.retriable()).isTrue();
        assertThat(originRequests).isEmpty();
    }

    @Test
    void noJvmProxyPropertyReplacesTheConfiguredProxy() throws Exception {
        Map<String, String> hostile =
                Map.of(
                        "org.asynchttpclient.useProxyProperties", "true",
                        "org.asynchttpclient.useProxySelector", "true",
                        "https.proxyHost", "evil.example",
                        "https.proxyPort", "8443",
                        "http.proxyHost", "evil.example");
        hostile.forEach(System::setProperty);
        org.asynchttpclient.config.AsyncHttpClientConfigHelper.reloadProperties();
        try {
            var config =
                    OpenAiChatClient.config(
                            settings(
                                    "llm.base-url=https://api.example.invalid/v1",
                                    "llm.proxy.url=http://127.0.0.1:3128"));
            var chosen =
                    config.getProxyServerSelector()
                            .select(
                                    org.asynchttpclient.uri.Uri.create(
                                            "https://api.example.invalid/v1/chat/completions"));
            assertThat(chosen.getHost()).isEqualTo("127.0.0.1");
            assertThat(chosen.getPort()).isEqualTo(3128);
            assertThat(chosen.getRealm()).isNull();
        } finally {
            hostile.keySet().forEach(System::clearProperty);
            org.asynchttpclient.config.AsyncHttpClientConfigHelper.reloadProperties();
        }
    }

    @Test
    void withTheShippedLoggingAtDebugTheProxyPasswordAndTheKeyAreInNoLogLine(@TempDir Path dir)
            throws Exception {
        String base = httpsOrigin();
        proxy = TestHttpProxy.requiringBasic("triage", "Zq9ProxySecret");
        Path good = dir.resolve("good");
        Files.writeString(good, "Zq9ProxySecret");
        Path bad = dir.resolve("bad");
        Files.writeString(bad, "Zq9WrongSecret");
        Path log = dir.resolve("taskmanager.log");
        var context =
                (org.apache.logging.log4j.core.LoggerContext)
                        org.apache.logging.log4j.LogManager.getContext(false);
        java.net.URI before = context.getConfigLocation();
        System.setProperty("log.file", log.toString());
        try {
            context.setConfigLocation(Path.of("flink-conf/log4j.properties").toUri());
            org.apache.logging.log4j.core.config.Configurator.setRootLevel(
                    org.apache.logging.log4j.Level.DEBUG);
            org.apache.logging.log4j.LogManager.getLogger("root.level.probe")
                    .debug("the root logger is at DEBUG");
            for (Path password : List.of(good, bad)) {
                LlmSettings s =
                        settings(
                                "llm.base-url=" + base,
                                "llm.proxy.url=" + proxy.url(),
                                "llm.proxy.username=triage",
                                "llm.proxy.password-file=" + password);
                try (var client = new OpenAiChatClient(s, KEY)) {
                    catchThrowable(() -> call(client));
                }
            }
        } finally {
            context.setConfigLocation(before);
            System.clearProperty("log.file");
        }
        assertThat(proxy.refused()).as("the wrong password was tried").isEqualTo(1);
        assertThat(originRequests).as("the right one got through").hasSize(1);
        String text = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(text).contains("the root logger is at DEBUG");
        String basic =
                Base64.getEncoder()
                        .encodeToString("triage:Zq9ProxySecret".getBytes(StandardCharsets.UTF_8));
        assertThat(text)
                .doesNotContain("Zq9ProxySecret")
                .doesNotContain("Zq9WrongSecret")
                .doesNotContain(basic)
                .doesNotContain(KEY);
    }
}
