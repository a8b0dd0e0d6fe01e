package dev.triage.llm;

import dev.triage.config.EndpointOptions.StructuredOutput;
import dev.triage.config.LlmSettings;
import dev.triage.io.Json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import org.asynchttpclient.AsyncCompletionHandlerBase;
import org.asynchttpclient.AsyncHttpClient;
import org.asynchttpclient.DefaultAsyncHttpClientConfig;
import org.asynchttpclient.Dsl;
import org.asynchttpclient.HttpResponseBodyPart;
import org.asynchttpclient.HttpResponseStatus;
import org.asynchttpclient.Realm;
import org.asynchttpclient.Response;
import org.asynchttpclient.proxy.ProxyServer;
import org.asynchttpclient.proxy.ProxyServerSelector;
import org.asynchttpclient.proxy.ProxyType;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/**
 * OpenAI-compatible chat-completions client on async-http-client (Netty, non-blocking), for one
 * endpoint: its auth style (Bearer, Azure's api-key, none), api-version, structured-output mode and
 * token-limit field. One instance per operator and endpoint; the connection pool is not bounded
 * here because the operator bounds the calls in flight.
 *
 * <p>Over 300 lines because it is the whole wire contract of one API in one place: the request
 * body, the three auth styles, the response and usage parsing, and the mapping of every status and
 * header to an {@link LlmException}; the retry decisions are not here (the operator's outcome
 * policy and the gateway make them).
 */
public class OpenAiChatClient implements LlmClient {

    private static final int MAX_ERROR_BODY = 2000;

    /**
     * The most bytes of a response body read: a chat completion of this job is a few KiB (the
     * answer is capped by llm.max-output-tokens), and a hostile or broken endpoint must not be able
     * to fill the TaskManager's heap with one answer. Counted as the body streams in.
     */
    static final int MAX_RESPONSE_BYTES = 1 << 20;

    static final Duration POOLED_IDLE_TIMEOUT = Duration.ofSeconds(4);
    static final Duration CONNECTION_TTL = Duration.ofMinutes(5);

    private final LlmSettings settings;
    private final String url;
    private final String apiKey;
    private final AsyncHttpClient http;
    private final long maxResponseBytes;
    private volatile FirstContent firstContent;

    public OpenAiChatClient(LlmSettings settings, String apiKey) {
        this(settings, apiKey, MAX_RESPONSE_BYTES);
    }

    OpenAiChatClient(LlmSettings settings, String apiKey, long maxResponseBytes) {
        this.maxResponseBytes = maxResponseBytes;
        this.settings = settings;
        String base = settings.baseUrl().replaceAll("/+$", "") + "/chat/completions";
        this.url =
                settings.apiVersion().isBlank()
                        ? base
                        : base
                                + "?api-version="
                                + URLEncoder.encode(settings.apiVersion(), StandardCharsets.UTF_8);
        this.apiKey = apiKey;
        this.http = Dsl.asyncHttpClient(config(settings));
    }

    /**
     * The client's settings, each one set here rather than left to async-http-client's defaults
     * (which a system property or an {@code ahc.properties} on the classpath could also change).
     * Certificate and host name checks are on, and the only proxy is the endpoint's own {@code
     * llm.proxy.url}, whatever {@code -Dorg.asynchttpclient.*} or {@code -Dhttps.proxyHost} say
     * (docs/security.md: trust a private CA with the JVM's trust store instead). Left at their
     * defaults, on purpose: no 401 handling without a realm (none is set), unbounded connections
     * (the operator bounds the calls in flight), no automatic request compression.
     */
    static DefaultAsyncHttpClientConfig config(LlmSettings settings) {
        return config(
                settings, settings.proxy() == null ? null : settings.proxy().resolvePassword());
    }

    static DefaultAsyncHttpClientConfig config(LlmSettings settings, String proxyPassword) {
        ProxyServer proxy = proxyServer(settings.proxy(), proxyPassword);
        return Dsl.config()
                .setThreadPoolName("llm-http")
                .setIoThreadsCount(2)
                // One POST per counted attempt: the default (5) replays a POST whose connection
                // closed before the answer, unseen by attempts, limiter, AIMD and breaker. The
                // gateway is the only thing that retries.
                .setMaxRequestRetry(0)
                // A redirected POST is an error to report, not something to re-send.
                .setFollowRedirect(false)
                .setConnectTimeout(settings.connectTimeout())
                // The whole exchange, connect included; the read timeout (silence between
                // bytes) cannot be longer than that anyway.
                .setRequestTimeout(settings.requestTimeout())
                .setReadTimeout(settings.requestTimeout())
                .setKeepAlive(true)
                // Close idle connections before common servers do (uvicorn, hence vLLM, and
                // Node close after 5 s): a POST written into a connection the server is closing
                // fails without being read, and costs an attempt.
                .setPooledConnectionIdleTimeout(POOLED_IDLE_TIMEOUT)
                // Re-resolve and reconnect now and then: a provider's DNS failover or a load
                // balancer's rebalancing is otherwise never seen by a busy connection.
                .setConnectionTtl(CONNECTION_TTL)
                // No hidden state between calls: answers' Set-Cookie is not sent back.
                .setCookieStore(null)
                .setUserAgent("flink-llm-triage")
                .setUseInsecureTrustManager(false)
                .setDisableHttpsEndpointIdentificationAlgorithm(false)
                .setUseProxyProperties(false)
                .setUseProxySelector(false)
                .setProxyServerSelector(
                        proxy == null ? ProxyServerSelector.NO_PROXY_SELECTOR : uri -> proxy)
                .build();
    }

    /**
     * The endpoint's HTTP proxy. async-http-client (3.0.3, read in its source and tried in
     * OpenAiChatClientProxyTest) opens a CONNECT tunnel for an https:// endpoint and sends only
     * {@code Proxy-Authorization} and {@code User-Agent} on the CONNECT, so the proxy never sees
     * the API key or a ticket; it sends a plain http:// request to the proxy with its absolute URI,
     * headers included. Basic credentials go preemptively (no 407 round trip first), on the CONNECT
     * only for https:// and never inside the tunnel; a 407 is then not retried (the client gives up
     * on a preemptive Basic realm), and reaches {@link #parse} as a status.
     */
    static ProxyServer proxyServer(LlmSettings.Proxy proxy, String password) {
        if (proxy == null) {
            return null;
        }
        ProxyServer.Builder builder =
                new ProxyServer.Builder(proxy.host(), proxy.port()).setProxyType(ProxyType.HTTP);
        if (proxy.hasCredentials() && password != null) {
            builder.setRealm(
                    new Realm.Builder(proxy.username(), password)
                            .setScheme(Realm.AuthScheme.BASIC)
                            .setCharset(StandardCharsets.UTF_8)
                            .setUsePreemptiveAuth(true)
                            .build());
        }
        return builder.build();
    }

    /** Creates clients that read their endpoint's API key (file or environment) on the worker. */
    public static final LlmClientFactory FACTORY =
            endpoint -> new OpenAiChatClient(endpoint, endpoint.resolveApiKey());

    @Override
    public CompletableFuture<LlmReply> complete(List<ChatMessage> messages, JsonNode answerSchema) {
        byte[] body = requestBody(messages, answerSchema).getBytes(StandardCharsets.UTF_8);
        var request =
                http.preparePost(url)
                        .setHeader("Content-Type", "application/json")
                        .setHeader("Accept", "application/json")
                        .setBody(body);
        if (apiKey != null) {
            switch (settings.auth()) {
                case BEARER -> request.setHeader("Authorization", "Bearer " + apiKey);
                case API_KEY -> request.setHeader("api-key", apiKey);
                case NONE -> {}
            }
        }
        CappedBody capped = new CappedBody(maxResponseBytes);
        return request.execute(capped)
                .toCompletableFuture()
                .handle(
                        (response, error) -> {
                            if (capped.exceeded) {
                                throw new CompletionException(
                                        new LlmException(
                                                LlmException.Kind.INVALID_RESPONSE,
                                                capped.status,
                                                false,
                                                "response body longer than "
                                                        + maxResponseBytes
                                                        + " bytes: not read further",
                                                null));
                            }
                            if (error != null) {
                                throw new CompletionException(transportFailure(error));
                            }
                            try {
                                return parse(response);
                            } catch (LlmException e) {
                                throw new CompletionException(e);
                            }
                        });
    }

    /** Collects the response like the default handler, and stops reading past {@code max} bytes. */
    static final class CappedBody extends AsyncCompletionHandlerBase {
        private final long max;
        private long read;
        volatile boolean exceeded;
        volatile int status;

        CappedBody(long max) {
            this.max = max;
        }

        @Override
        public State onStatusReceived(HttpResponseStatus s) throws Exception {
            status = s.getStatusCode();
            return super.onStatusReceived(s);
        }

        @Override
        public State onHeadersReceived(io.netty.handler.codec.http.HttpHeaders headers)
                throws Exception {
            String length = headers.get("Content-Length");
            if (length != null) {
                try {
                    if (Long.parseLong(length.strip()) > max) {
                        exceeded = true;
                        return State.ABORT;
                    }
                } catch (NumberFormatException e) {
                    // a bad length: the count below still holds
                }
            }
            return super.onHeadersReceived(headers);
        }

        @Override
        public State onBodyPartReceived(HttpResponseBodyPart part) throws Exception {
            read += part.length();
            if (read > max) {
                exceeded = true;
                return State.ABORT;
            }
            return super.onBodyPartReceived(part);
        }
    }

    String requestBody(List<ChatMessage> messages, JsonNode answerSchema) {
        StructuredOutput mode = answerSchema == null ? null : settings.structuredOutput();
        StringWriter out = new StringWriter(4096);
        try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
            // Printed on every request: a schema is a mutable tree, so what it says now is sent.
            String schema =
                    answerSchema == null ? null : Json.MAPPER.writeValueAsString(answerSchema);
            g.writeStartObject();
            g.writeStringField("model", settings.model());
            g.writeArrayFieldStart("messages");
            boolean first = true;
            for (ChatMessage m : messages) {
                g.writeStartObject();
                g.writeStringField("role", m.role());
                g.writeFieldName("content");
                if (first) {
                    // The system message is the same text in nearly every request: escaped once,
                    // then written as it is.
                    g.writeRawValue(firstContent(m.content(), schema, mode));
                } else {
                    g.writeString(m.content());
                }
                g.writeEndObject();
                first = false;
            }
            g.writeEndArray();
            g.writeNumberField("temperature", settings.temperature());
            g.writeNumberField(settings.maxTokensField(), settings.maxOutputTokens());
            if (mode == StructuredOutput.JSON_SCHEMA) {
                g.writeObjectFieldStart("response_format");
                g.writeStringField("type", "json_schema");
                g.writeObjectFieldStart("json_schema");
                g.writeStringField("name", "triage");
                g.writeBooleanField("strict", true);
                g.writeFieldName("schema");
                g.writeRawValue(schema);
                g.writeEndObject();
                g.writeEndObject();
            } else if (mode == StructuredOutput.JSON_OBJECT) {
                g.writeObjectFieldStart("response_format");
                g.writeStringField("type", "json_object");
                g.writeEndObject();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    /**
     * The first message's content as a JSON string, with the schema appended where the request
     * cannot carry it; kept for the last content instance (a String cannot change) and schema text
     * seen.
     */
    private String firstContent(String content, String schema, StructuredOutput mode)
            throws IOException {
        boolean withSchema = mode != null && mode != StructuredOutput.JSON_SCHEMA;
        String appended = withSchema ? schema : null;
        FirstContent c = firstContent;
        if (c == null || c.content != content || !Objects.equals(c.appended, appended)) {
            String text = content;
            if (withSchema) {
                // Without a schema in response_format, the prompt must carry it.
                text +=
                        "\n\nReply with only a JSON object (no Markdown) that follows this JSON"
                                + " schema:\n"
                                + schema;
            }
            c = new FirstContent(content, appended, Json.MAPPER.writeValueAsString(text));
            firstContent = c;
        }
        return c.json;
    }

    /** What {@link #firstContent} keeps: its keys and the JSON. */
    private record FirstContent(String content, String appended, String json) {}

    LlmReply parse(Response response) throws LlmException {
        int status = response.getStatusCode();
        // Some providers echo the key (or part of it) in a 401: it never leaves this method.
        String body = redact(response.getResponseBody(StandardCharsets.UTF_8));
        if (status == 407) {
            throw new LlmException(
                    LlmException.Kind.HTTP_STATUS,
                    status,
                    false,
                    "HTTP 407 from the HTTP proxy"
                            + (settings.proxy() == null ? "" : " " + settings.proxy().url())
                            + ": it wants credentials it did not get or did not accept (check"
                            + " llm.proxy.username and llm.proxy.password-file or -env, or the"
                            + " llm.fallback.proxy.* ones)",
                    truncate(body));
        }
        if (status != 200) {
            throw new LlmException(
                    LlmException.Kind.HTTP_STATUS,
                    status,
                    RetryAdvice.isRetriable(status, body, response::getHeader),
                    "HTTP " + status + ": " + redact(errorMessage(body)),
                    truncate(body),
                    RetryAdvice.retryAfterMillis(response::getHeader, java.time.Instant.now()));
        }
        try {
            JsonNode root = Json.MAPPER.readTree(body);
            JsonNode choice = root.path("choices").path(0);
            if (choice.isMissingNode()) {
                throw new IOException("no choices in the response");
            }
            JsonNode message = choice.path("message");
            JsonNode usage = root.path("usage");
            return new LlmReply(
                    message.path("content").isTextual() ? message.get("content").asText() : null,
                    choice.path("finish_reason").asText(null),
                    message.path("refusal").isTextual() ? message.get("refusal").asText() : null,
                    root.path("model").asText(null),
                    usage.path("prompt_tokens").asInt(0),
                    usage.path("completion_tokens").asInt(0),
                    RateLimitStatus.from(response::getHeader));
        } catch (IOException e) {
            throw new LlmException(
                    LlmException.Kind.INVALID_RESPONSE,
                    status,
                    false,
                    "response is not a chat completion: " + e.getMessage(),
                    truncate(body));
        }
    }

    /**
     * The text with every occurrence of the API key replaced, also where it is written with JSON
     * escapes (an escaped slash, a unicode escape of a letter): a 401 that echoes the key that way
     * would otherwise carry it past a literal replacement, and decoding the JSON later would
     * restore it.
     */
    String redact(String text) {
        if (text == null || apiKey == null || apiKey.length() < 4) {
            return text;
        }
        String literal = text.replace(apiKey, "[redacted]");
        if (literal.indexOf('\\') < 0) {
            return literal;
        }
        String unescaped = unescapeJson(literal);
        return unescaped.contains(apiKey) ? unescaped.replace(apiKey, "[redacted]") : literal;
    }

    /** JSON string escapes undone wherever they appear (lenient: not a parser). */
    static String unescapeJson(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\' || i + 1 >= text.length()) {
                out.append(c);
                continue;
            }
            char n = text.charAt(i + 1);
            switch (n) {
                case 'u' -> {
                    if (isHex(text, i + 2, 4)) {
                        out.append((char) Integer.parseInt(text.substring(i + 2, i + 6), 16));
                        i += 5;
                    } else {
                        out.append(c);
                    }
                }
                case '/', '\\', '"' -> {
                    out.append(n);
                    i++;
                }
                case 'n' -> {
                    out.append('\n');
                    i++;
                }
                case 't' -> {
                    out.append('\t');
                    i++;
                }
                case 'r' -> {
                    out.append('\r');
                    i++;
                }
                case 'b' -> {
                    out.append('\b');
                    i++;
                }
                case 'f' -> {
                    out.append('\f');
                    i++;
                }
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isHex(String s, int from, int n) {
        if (from + n > s.length()) {
            return false;
        }
        for (int i = from; i < from + n; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    LlmException transportFailure(Throwable error) {
        Throwable cause =
                error instanceof CompletionException && error.getCause() != null
                        ? error.getCause()
                        : error;
        return new LlmException(
                cause instanceof TimeoutException
                        ? LlmException.Kind.TIMEOUT
                        : LlmException.Kind.TRANSPORT,
                0,
                true,
                redact(cause.getClass().getSimpleName() + ": " + cause.getMessage()),
                null);
    }

    /** Error bodies differ per server: {"error":{"message":..}}, {"message":..}, or plain text. */
    static String errorMessage(String body) {
        if (body == null || body.isBlank()) {
            return "(empty body)";
        }
        try {
            JsonNode root = Json.MAPPER.readTree(body);
            JsonNode error = root.path("error");
            if (error.isObject() && error.path("message").isTextual()) {
                return error.get("message").asText();
            }
            if (error.isTextual()) {
                return error.asText();
            }
            if (root.path("message").isTextual()) {
                return root.get("message").asText();
            }
        } catch (IOException ignored) {
            // not JSON: fall through to the raw text
        }
        return truncate(body);
    }

    private static String truncate(String s) {
        return s == null || s.length() <= MAX_ERROR_BODY
                ? s
                : s.substring(0, MAX_ERROR_BODY) + "...";
    }

    @Override
    public void close() {
        try {
            http.close();
        } catch (IOException e) {
            // closing an HTTP client at shutdown: nothing useful to do
        }
    }
}
