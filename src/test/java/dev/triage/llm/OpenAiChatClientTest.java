package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.triage.config.EndpointOptions.Auth;
import dev.triage.config.EndpointOptions.StructuredOutput;
import dev.triage.config.LlmSettings;
import dev.triage.io.Json;
import dev.triage.prompt.PromptBuilder;
import dev.triage.prompt.TicketBlock;
import dev.triage.records.Ticket;
import dev.triage.session.Turn;
import dev.triage.testing.TestSettings;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The client against a real local HTTP server that records the request and answers as told. */
class OpenAiChatClientTest {

    private HttpServer server;
    private final AtomicReference<String> requestBody = new AtomicReference<>();
    private final AtomicReference<String> authorization = new AtomicReference<>();
    private final AtomicReference<String> path = new AtomicReference<>();
    private final AtomicReference<String> apiKeyHeader = new AtomicReference<>();
    private final AtomicReference<String> query = new AtomicReference<>();
    private final AtomicReference<String> cookie = new AtomicReference<>();
    private final AtomicInteger received = new AtomicInteger();
    private volatile boolean hang;
    private volatile int status = 200;
    private volatile String response;
    private volatile Map<String, String> responseHeaders = Map.of();

    private final PromptBuilder prompts =
            new PromptBuilder(
                    TestSettings.yaml(
                                    """
                                    triage.system-prompt: Triage.
                                    triage.categories: {billing: money, other: rest}
                                    """)
                            .prompt());

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext(
                "/",
                exchange -> {
                    path.set(exchange.getRequestURI().getPath());
                    authorization.set(exchange.getRequestHeaders().getFirst("Authorization"));
                    apiKeyHeader.set(exchange.getRequestHeaders().getFirst("api-key"));
                    query.set(exchange.getRequestURI().getQuery());
                    cookie.set(exchange.getRequestHeaders().getFirst("Cookie"));
                    received.incrementAndGet();
                    if (hang) {
                        return; // never answer: the client's timeout must fire
                    }
                    requestBody.set(
                            new String(
                                    exchange.getRequestBody().readAllBytes(),
                                    StandardCharsets.UTF_8));
                    responseHeaders.forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
                    byte[] bytes = response.getBytes(StandardCharsets.UTF_8);
                    exchange.sendResponseHeaders(status, bytes.length);
                    exchange.getResponseBody().write(bytes);
                    exchange.close();
                });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private OpenAiChatClient client(String maxTokensField, String key) {
        return new OpenAiChatClient(
                settings(
                        "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/",
                        Auth.BEARER,
                        "",
                        StructuredOutput.JSON_SCHEMA,
                        maxTokensField,
                        Duration.ofSeconds(5)),
                key);
    }

    static LlmSettings settings(
            String baseUrl,
            Auth auth,
            String apiVersion,
            StructuredOutput mode,
            String maxTokensField,
            Duration timeout) {
        return TestSettings.yaml(
                        """
                        llm.model: gpt-test
                        llm.api-key-env: UNUSED
                        llm.max-output-tokens: 300
                        llm.connect-timeout: 2s
                        """,
                        "llm.base-url: '" + baseUrl + "'",
                        "llm.auth: " + auth,
                        "llm.api-version: '" + apiVersion + "'",
                        "llm.structured-output: " + mode,
                        "llm.max-tokens-field: '" + maxTokensField + "'",
                        "llm.request-timeout: " + timeout.toMillis() + "ms")
                .primary();
    }

    private List<ChatMessage> messages() {
        Ticket ticket =
                new Ticket(
                        "T-2", "S-1", null, "email", "Refund", "Where is my refund?", 0, "t", 0, 0);
        Turn earlier =
                new Turn(
                        1,
                        "T-1",
                        "Ticket T-1\n\nI was charged twice.",
                        "{\"summary\":\"charged twice\"}");
        return prompts.messages(List.of(earlier), ticket);
    }

    @Test
    void sendsAnOpenAiChatRequestWithTheStrictAnswerSchema() throws Exception {
        response = completion("{\"category\":\"billing\"}", "stop");
        try (var client = client("max_completion_tokens", "sk-secret")) {
            client.complete(messages(), prompts.answerSchema()).get();
        }
        assertThat(path.get()).isEqualTo("/v1/chat/completions");
        assertThat(authorization.get()).isEqualTo("Bearer sk-secret");
        JsonNode body = Json.MAPPER.readTree(requestBody.get());
        assertThat(body.get("model").asText()).isEqualTo("gpt-test");
        assertThat(body.get("temperature").asDouble()).isEqualTo(0.0);
        assertThat(body.get("max_completion_tokens").asInt()).isEqualTo(300);
        assertThat(body.has("max_tokens")).isFalse();
        JsonNode msgs = body.get("messages");
        assertThat(msgs).hasSize(4);
        assertThat(msgs.get(0).get("role").asText()).isEqualTo("system");
        assertThat(msgs.get(0).get("content").asText())
                .contains("- billing: money")
                .contains("- other: rest");
        assertThat(msgs.get(1).get("content").asText()).contains("charged twice");
        assertThat(msgs.get(2).get("role").asText()).isEqualTo("assistant");
        TicketBlock.Contents ticket = TicketBlock.read(msgs.get(3).get("content").asText());
        assertThat(ticket.ticketId()).isEqualTo("T-2");
        assertThat(ticket.channel()).isEqualTo("email");
        assertThat(ticket.subject()).isEqualTo("Refund");
        JsonNode format = body.get("response_format");
        assertThat(format.get("type").asText()).isEqualTo("json_schema");
        assertThat(format.get("json_schema").get("strict").asBoolean()).isTrue();
        JsonNode schema = format.get("json_schema").get("schema");
        assertThat(schema.get("additionalProperties").asBoolean()).isFalse();
        assertThat(schema.get("required")).hasSize(6);
        assertThat(schema.at("/properties/category/enum").toString())
                .isEqualTo("[\"billing\",\"other\"]");
    }

    @Test
    void sendsNoAuthorizationHeaderWithoutAKey() throws Exception {
        response = completion("{}", "stop");
        try (var client = client("max_tokens", null)) {
            client.complete(messages(), prompts.answerSchema()).get();
        }
        assertThat(authorization.get()).isNull();
        assertThat(Json.MAPPER.readTree(requestBody.get()).get("max_tokens").asInt())
                .isEqualTo(300);
    }

    @Test
    void parsesContentFinishReasonAndUsage() throws Exception {
        response = completion("{\"category\":\"billing\"}", "length");
        LlmReply reply;
        try (var client = client("max_tokens", null)) {
            reply = client.complete(messages(), prompts.answerSchema()).get();
        }
        assertThat(reply.content()).isEqualTo("{\"category\":\"billing\"}");
        assertThat(reply.finishReason()).isEqualTo("length");
        assertThat(reply.model()).isEqualTo("gpt-test-0613");
        assertThat(reply.promptTokens()).isEqualTo(120);
        assertThat(reply.completionTokens()).isEqualTo(30);
    }

    @Test
    void classifiesErrors() throws Exception {
        assertFailure(
                500,
                "{\"error\":{\"message\":\"boom\"}}",
                LlmException.Kind.HTTP_STATUS,
                true,
                "boom");
        assertFailure(
                429,
                "{\"error\":{\"message\":\"slow down\",\"code\":\"rate_limit_exceeded\"}}",
                LlmException.Kind.HTTP_STATUS,
                true,
                "slow down");
        assertFailure(
                429,
                "{\"error\":{\"message\":\"pay up\",\"code\":\"insufficient_quota\"}}",
                LlmException.Kind.HTTP_STATUS,
                false,
                "pay up");
        assertFailure(
                401, "{\"message\":\"bad key\"}", LlmException.Kind.HTTP_STATUS, false, "bad key");
        assertFailure(
                400, "plain text error", LlmException.Kind.HTTP_STATUS, false, "plain text error");
        assertFailure(
                200,
                "<html>proxy page</html>",
                LlmException.Kind.INVALID_RESPONSE,
                false,
                "not a chat completion");
    }

    @Test
    void carriesTheProvidersRetryAdvice() {
        status = 429;
        response =
                "{\"error\":{\"message\":\"Rate limit reached\",\"code\":\"rate_limit_exceeded\"}}";
        responseHeaders = Map.of("Retry-After", "3", "x-ratelimit-remaining-requests", "0");
        try (var client = client("max_tokens", null)) {
            Throwable t = catchThrowable(() -> client.complete(messages(), null).join());
            LlmException e = (LlmException) t.getCause();
            assertThat(e.retriable()).isTrue();
            assertThat(e.retryAfterMillis()).isEqualTo(3000);
        }
        responseHeaders = Map.of("x-should-retry", "false");
        status = 503;
        try (var client = client("max_tokens", null)) {
            Throwable t = catchThrowable(() -> client.complete(messages(), null).join());
            assertThat(((LlmException) t.getCause()).retriable()).isFalse();
        }
    }

    @Test
    void connectionFailureIsARetriableTransportError() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        var settings =
                settings(
                        "http://127.0.0.1:" + closedPort + "/v1",
                        Auth.BEARER,
                        "",
                        StructuredOutput.JSON_SCHEMA,
                        "max_tokens",
                        Duration.ofSeconds(2));
        try (var client = new OpenAiChatClient(settings, "sk-secret")) {
            Throwable t = catchThrowable(() -> client.complete(messages(), null).join());
            LlmException e = (LlmException) ((CompletionException) t).getCause();
            assertThat(e.kind()).isEqualTo(LlmException.Kind.TRANSPORT);
            assertThat(e.retriable()).isTrue();
            assertThat(e.getMessage()).doesNotContain("sk-secret");
        }
    }

    @Test
    void aConnectionDroppedAfterThePostIsOneFailedAttemptNotASilentResend() throws Exception {
        AtomicInteger posts = new AtomicInteger();
        try (ServerSocket dropper = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor =
                    new Thread(
                            () -> {
                                while (!dropper.isClosed()) {
                                    try (Socket s = dropper.accept()) {
                                        readWholeRequest(s.getInputStream());
                                        posts.incrementAndGet();
                                    } catch (IOException closed) {
                                        return;
                                    }
                                }
                            },
                            "dropper");
            acceptor.setDaemon(true);
            acceptor.start();
            var settings =
                    settings(
                            "http://127.0.0.1:" + dropper.getLocalPort() + "/v1",
                            Auth.BEARER,
                            "",
                            StructuredOutput.JSON_SCHEMA,
                            "max_tokens",
                            Duration.ofSeconds(5));
            try (var client = new OpenAiChatClient(settings, "sk-secret")) {
                Throwable t = catchThrowable(() -> client.complete(messages(), null).join());
                LlmException e = (LlmException) ((CompletionException) t).getCause();
                assertThat(e.kind()).isEqualTo(LlmException.Kind.TRANSPORT);
                assertThat(e.retriable()).isTrue();
            }
            // The future fails only after the client gave up, so any resend has arrived by now.
            assertThat(posts.get()).as("POSTs the server read").isEqualTo(1);
        }
    }

    @Test
    void aRedirectedPostIsReportedNotFollowed() {
        status = 307;
        response = "";
        responseHeaders = Map.of("Location", "/v1/elsewhere");
        try (var client = client("max_tokens", null)) {
            Throwable t = catchThrowable(() -> client.complete(messages(), null).join());
            LlmException e = (LlmException) t.getCause();
            assertThat(e.kind()).isEqualTo(LlmException.Kind.HTTP_STATUS);
            assertThat(e.status()).isEqualTo(307);
        }
        assertThat(received.get()).isEqualTo(1);
        assertThat(path.get()).isEqualTo("/v1/chat/completions");
    }

    @Test
    void cookiesSetByAnAnswerAreNotSentBack() throws Exception {
        response = completion("{}", "stop");
        responseHeaders = Map.of("Set-Cookie", "__cf_bm=abc; Path=/");
        try (var client = client("max_tokens", null)) {
            client.complete(messages(), null).get();
            client.complete(messages(), null).get();
        }
        assertThat(received.get()).isEqualTo(2);
        assertThat(cookie.get()).isNull();
    }

    @Test
    void everyResendAndReuseDefaultIsSetExplicitly() {
        var config =
                OpenAiChatClient.config(
                        settings(
                                "http://127.0.0.1:1/v1",
                                Auth.BEARER,
                                "",
                                StructuredOutput.JSON_SCHEMA,
                                "max_tokens",
                                Duration.ofSeconds(7)));
        assertThat(config.getMaxRequestRetry()).isZero();
        assertThat(config.isFollowRedirect()).isFalse();
        assertThat(config.getRequestTimeout()).isEqualTo(Duration.ofSeconds(7));
        assertThat(config.getReadTimeout()).isEqualTo(Duration.ofSeconds(7));
        assertThat(config.getPooledConnectionIdleTimeout()).isLessThan(Duration.ofSeconds(5));
        assertThat(config.getConnectionTtl()).isPositive();
        assertThat(config.getCookieStore()).isNull();
        assertThat(config.getIoExceptionFilters()).isEmpty();
        assertThat(config.getRealm()).isNull();
    }

    @Test
    void noSystemPropertyCanTurnOffCertificateChecksOrSendCallsThroughAProxy() {
        // async-http-client takes its defaults from org.asynchttpclient.* system properties and
        // an ahc.properties on the classpath: -Dorg.asynchttpclient.useInsecureTrustManager=true
        // turned off certificate checks of the LLM endpoint (found by the security review).
        Map<String, String> hostile =
                Map.of(
                        "org.asynchttpclient.useInsecureTrustManager", "true",
                        "org.asynchttpclient.disableHttpsEndpointIdentificationAlgorithm", "true",
                        "org.asynchttpclient.useProxyProperties", "true",
                        "org.asynchttpclient.useProxySelector", "true",
                        "org.asynchttpclient.maxRequestRetry", "5",
                        "org.asynchttpclient.followRedirect", "true");
        hostile.forEach(System::setProperty);
        org.asynchttpclient.config.AsyncHttpClientConfigHelper.reloadProperties();
        try {
            var config =
                    OpenAiChatClient.config(
                            settings(
                                    "https://127.0.0.1:1/v1",
                                    Auth.BEARER,
                                    "",
                                    StructuredOutput.JSON_SCHEMA,
                                    "max_tokens",
                                    Duration.ofSeconds(7)));
            assertThat(config.isUseInsecureTrustManager()).isFalse();
            assertThat(config.isDisableHttpsEndpointIdentificationAlgorithm()).isFalse();
            assertThat(config.getProxyServerSelector())
                    .isSameAs(org.asynchttpclient.proxy.ProxyServerSelector.NO_PROXY_SELECTOR);
            assertThat(config.getMaxRequestRetry()).isZero();
            assertThat(config.isFollowRedirect()).isFalse();
        } finally {
            hostile.keySet().forEach(System::clearProperty);
            org.asynchttpclient.config.AsyncHttpClientConfigHelper.reloadProperties();
        }
    }

    /** Reads one HTTP request: the head up to the blank line, then Content-Length bytes. */
    private static void readWholeRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("request ended early");
            }
            head.append((char) b);
        }
        Matcher m = Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(head.toString());
        assertThat(m.find()).as("the POST has a Content-Length").isTrue();
        in.readNBytes(Integer.parseInt(m.group(1)));
    }

    @Test
    void azureGetsItsApiKeyHeaderAndApiVersionOnTheDeploymentPath() throws Exception {
        response = completion("{}", "stop");
        String base =
                "http://127.0.0.1:"
                        + server.getAddress().getPort()
                        + "/openai/deployments/triage-4o";
        try (var client =
                new OpenAiChatClient(
                        settings(
                                base,
                                Auth.API_KEY,
                                "2024-10-21",
                                StructuredOutput.JSON_SCHEMA,
                                "max_tokens",
                                Duration.ofSeconds(5)),
                        "azure-key")) {
            client.complete(messages(), prompts.answerSchema()).get();
        }
        assertThat(path.get()).isEqualTo("/openai/deployments/triage-4o/chat/completions");
        assertThat(query.get()).isEqualTo("api-version=2024-10-21");
        assertThat(apiKeyHeader.get()).isEqualTo("azure-key");
        assertThat(authorization.get()).isNull();
    }

    @Test
    void jsonObjectAndPromptModesPutTheSchemaIntoTheSystemMessage() throws Exception {
        response = completion("{}", "stop");
        for (StructuredOutput mode :
                List.of(StructuredOutput.JSON_OBJECT, StructuredOutput.PROMPT)) {
            try (var client =
                    new OpenAiChatClient(
                            settings(
                                    "http://127.0.0.1:" + server.getAddress().getPort() + "/v1",
                                    Auth.NONE,
                                    "",
                                    mode,
                                    "max_tokens",
                                    Duration.ofSeconds(5)),
                            "unused-key")) {
                client.complete(messages(), prompts.answerSchema()).get();
            }
            JsonNode body = Json.MAPPER.readTree(requestBody.get());
            assertThat(authorization.get()).as("auth NONE sends no key").isNull();
            assertThat(body.at("/messages/0/content").asText())
                    .as(mode.name())
                    .contains("JSON schema")
                    .contains("\"enum\":[\"billing\",\"other\"]");
            if (mode == StructuredOutput.JSON_OBJECT) {
                assertThat(body.at("/response_format/type").asText()).isEqualTo("json_object");
            } else {
                assertThat(body.has("response_format")).isFalse();
            }
        }
    }

    @Test
    void rateLimitHeadersOfASuccessfulAnswerAreRead() throws Exception {
        response = completion("{}", "stop");
        responseHeaders =
                Map.of(
                        "x-ratelimit-limit-requests", "600",
                        "x-ratelimit-remaining-requests", "0",
                        "x-ratelimit-reset-requests", "1.5s",
                        "x-ratelimit-remaining-tokens", "149000");
        LlmReply reply;
        try (var client = client("max_tokens", null)) {
            reply = client.complete(messages(), prompts.answerSchema()).get();
        }
        assertThat(reply.rateLimit().limitRequests()).isEqualTo(600);
        assertThat(reply.rateLimit().remainingTokens()).isEqualTo(149000);
        assertThat(reply.rateLimit().exhaustedForMillis()).isEqualTo(1500);
    }

    @Test
    void aSlowServerIsARetriableTimeout() throws Exception {
        hang = true;
        try (var client =
                new OpenAiChatClient(
                        settings(
                                "http://127.0.0.1:" + server.getAddress().getPort() + "/v1",
                                Auth.BEARER,
                                "",
                                StructuredOutput.JSON_SCHEMA,
                                "max_tokens",
                                Duration.ofMillis(300)),
                        "sk-secret")) {
            Throwable t = catchThrowable(() -> client.complete(messages(), null).join());
            LlmException e = (LlmException) t.getCause();
            assertThat(e.kind()).isEqualTo(LlmException.Kind.TIMEOUT);
            assertThat(e.retriable()).isTrue();
        }
    }

    @Test
    void aKeyEchoedByTheServerIsRedacted() {
        assertFailure(
                401,
                "{\"error\":{\"message\":\"Incorrect API key provided: sk-secret.\","
                        + "\"code\":\"invalid_api_key\"}}",
                LlmException.Kind.HTTP_STATUS,
                false,
                "Incorrect API key provided: [redacted]");
    }

    @Test
    void aResponseBodyBeyondTheCapIsNotReadAndIsAnUnusableAnswer() throws Exception {
        // Before, the body was buffered whole: a hostile or broken endpoint could fill the heap.
        OpenAiChatClient client =
                new OpenAiChatClient(
                        settings(
                                "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/",
                                Auth.NONE,
                                "",
                                StructuredOutput.JSON_SCHEMA,
                                "max_tokens",
                                Duration.ofSeconds(5)),
                        null,
                        64 * 1024);
        try (client) {
            for (String big :
                    List.of(
                            completion("x".repeat(200_000), "stop"), // Content-Length too large
                            completion("y".repeat(65_500), "stop"))) { // just past the cap
                response = big;
                long start = System.nanoTime();
                Throwable t = catchThrowable(() -> client.complete(messages(), null).join());
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertThat(t).isInstanceOf(CompletionException.class);
                LlmException e = (LlmException) t.getCause();
                assertThat(e.kind()).isEqualTo(LlmException.Kind.INVALID_RESPONSE);
                assertThat(e.getMessage()).contains("longer than 65536 bytes");
                assertThat(millis).as("no wait for the request timeout").isLessThan(4_000);
            }
            response = completion("{}", "stop"); // the client still works
            assertThat(client.complete(messages(), null).join().content()).isEqualTo("{}");
        }
    }

    @Test
    void aKeyEchoedWithJsonEscapesIsRedactedToo() {
        // A literal replacement missed these; decoding the error's JSON then restored the key.
        String key = "sk-live/AbC123xyz";
        status = 401;
        for (String echoed :
                List.of(
                        "sk-live\\/AbC123xyz",
                        "\\u0073k-live/AbC123xyz",
                        "\\u0073k-live\\/\\u0041bC123xyz")) {
            response =
                    "{\"error\":{\"message\":\"Incorrect API key provided: "
                            + echoed
                            + ".\",\"code\":\"invalid_api_key\"}}";
            try (var client = client("max_tokens", key)) {
                Throwable t = catchThrowable(() -> client.complete(messages(), null).join());
                LlmException e = (LlmException) t.getCause();
                assertThat(e.getMessage())
                        .as(echoed)
                        .contains("Incorrect API key provided: [redacted]")
                        .doesNotContain("AbC123xyz");
                assertThat(String.valueOf(e.responseBody())).as(echoed).doesNotContain("C123xyz");
            }
        }
    }

    @Test
    void withTheShippedLoggingConfigAndTheRootLoggerAtDebugTheKeyIsInNoLogLine(
            @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        // async-http-client and Netty print whole requests, Authorization included, at DEBUG:
        // flink-conf/log4j.properties pins them to WARN, whatever the root level.
        String key = "sk-live/Zq9LogSecret";
        Path log = dir.resolve("taskmanager.log");
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        java.net.URI before = context.getConfigLocation();
        System.setProperty("log.file", log.toString());
        try {
            context.setConfigLocation(Path.of("flink-conf/log4j.properties").toUri());
            Configurator.setRootLevel(Level.DEBUG);
            // (dev.triage itself is at INFO in that file: a logger outside it shows the root level)
            LogManager.getLogger("root.level.probe").debug("the root logger is at DEBUG");
            try (var client = client("max_tokens", key)) {
                status = 200;
                response = completion("{}", "stop");
                client.complete(messages(), null).join();
                status = 401;
                response =
                        "{\"error\":{\"message\":\"Incorrect API key provided:"
                                + " \\u0073k-live\\/Zq9LogSecret\"}}";
                catchThrowable(() -> client.complete(messages(), null).join());
            }
        } finally {
            context.setConfigLocation(before);
            System.clearProperty("log.file");
        }
        String text = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(text).contains("the root logger is at DEBUG");
        assertThat(authorization.get()).isEqualTo("Bearer " + key);
        assertThat(text).doesNotContain("Zq9LogSecret").doesNotContain("Bearer");
    }

    private void assertFailure(
            int code, String body, LlmException.Kind kind, boolean retriable, String message) {
        status = code;
        response = body;
        try (var client = client("max_tokens", "sk-secret")) {
            Throwable t = catchThrowable(() -> client.complete(messages(), null).join());
            assertThat(t).isInstanceOf(CompletionException.class);
            LlmException e = (LlmException) t.getCause();
            assertThat(e.kind()).as("kind for %s", code).isEqualTo(kind);
            assertThat(e.retriable()).as("retriable for %s %s", code, body).isEqualTo(retriable);
            assertThat(e.getMessage()).contains(message).doesNotContain("sk-secret");
            assertThat(String.valueOf(e.responseBody())).doesNotContain("sk-secret");
        }
    }

    static String completion(String content, String finishReason) {
        var root = Json.object();
        root.put("model", "gpt-test-0613");
        var choice = root.putArray("choices").addObject();
        choice.putObject("message").put("role", "assistant").put("content", content);
        choice.put("finish_reason", finishReason);
        root.putObject("usage").put("prompt_tokens", 120).put("completion_tokens", 30);
        return root.toString();
    }
}
