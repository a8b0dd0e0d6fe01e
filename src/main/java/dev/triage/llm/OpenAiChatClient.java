package dev.triage.llm;

import dev.triage.config.LlmSettings;
import dev.triage.records.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.asynchttpclient.AsyncHttpClient;
import org.asynchttpclient.Dsl;
import org.asynchttpclient.Response;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * OpenAI-compatible chat-completions client on async-http-client (Netty, non-blocking). One
 * instance per operator; the connection pool is not bounded here because the operator bounds the
 * calls in flight.
 */
public class OpenAiChatClient implements LlmClient {

    private static final int MAX_ERROR_BODY = 2000;

    private final LlmSettings settings;
    private final String url;
    private final String apiKey;
    private final AsyncHttpClient http;

    public OpenAiChatClient(LlmSettings settings, String apiKey) {
        this.settings = settings;
        this.url = settings.baseUrl().replaceAll("/+$", "") + "/chat/completions";
        this.apiKey = apiKey;
        this.http =
                Dsl.asyncHttpClient(
                        Dsl.config()
                                .setThreadPoolName("llm-http")
                                .setIoThreadsCount(2)
                                .setConnectTimeout(settings.connectTimeout())
                                .setRequestTimeout(settings.requestTimeout())
                                .setReadTimeout(settings.requestTimeout())
                                .setKeepAlive(true)
                                .setFollowRedirect(false));
    }

    /** A factory that reads the API key from the configured environment variable on the worker. */
    public static LlmClientFactory factory(LlmSettings settings) {
        return () -> {
            String key = System.getenv(settings.apiKeyEnv());
            return new OpenAiChatClient(
                    settings, key == null || key.isBlank() ? null : key.strip());
        };
    }

    @Override
    public CompletableFuture<LlmReply> complete(List<ChatMessage> messages, JsonNode answerSchema) {
        byte[] body = requestBody(messages, answerSchema).getBytes(StandardCharsets.UTF_8);
        var request =
                http.preparePost(url)
                        .setHeader("Content-Type", "application/json")
                        .setHeader("Accept", "application/json")
                        .setBody(body);
        if (apiKey != null) {
            request.setHeader("Authorization", "Bearer " + apiKey);
        }
        return request.execute()
                .toCompletableFuture()
                .handle(
                        (response, error) -> {
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

    String requestBody(List<ChatMessage> messages, JsonNode answerSchema) {
        ObjectNode root = Json.object();
        root.put("model", settings.model());
        ArrayNode msgs = root.putArray("messages");
        for (ChatMessage m : messages) {
            msgs.addObject().put("role", m.role()).put("content", m.content());
        }
        root.put("temperature", settings.temperature());
        root.put(settings.maxTokensField(), settings.maxOutputTokens());
        if (answerSchema != null) {
            ObjectNode format = root.putObject("response_format");
            format.put("type", "json_schema");
            ObjectNode js = format.putObject("json_schema");
            js.put("name", "triage");
            js.put("strict", true);
            js.set("schema", answerSchema);
        }
        return root.toString();
    }

    static LlmReply parse(Response response) throws LlmException {
        int status = response.getStatusCode();
        String body = response.getResponseBody(StandardCharsets.UTF_8);
        if (status != 200) {
            throw new LlmException(
                    LlmException.Kind.HTTP_STATUS,
                    status,
                    RetryAdvice.isRetriable(status, body, response::getHeader),
                    "HTTP " + status + ": " + errorMessage(body),
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
                    usage.path("completion_tokens").asInt(0));
        } catch (IOException e) {
            throw new LlmException(
                    LlmException.Kind.INVALID_RESPONSE,
                    status,
                    false,
                    "response is not a chat completion: " + e.getMessage(),
                    truncate(body));
        }
    }

    static LlmException transportFailure(Throwable error) {
        Throwable cause =
                error instanceof CompletionException && error.getCause() != null
                        ? error.getCause()
                        : error;
        return new LlmException(
                LlmException.Kind.TRANSPORT,
                0,
                true,
                cause.getClass().getSimpleName() + ": " + cause.getMessage(),
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
