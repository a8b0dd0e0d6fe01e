package dev.triage.config;

import static dev.triage.config.TriageOptions.*;

import dev.triage.config.EndpointOptions.Auth;
import dev.triage.config.EndpointOptions.StructuredOutput;

import org.apache.flink.configuration.ReadableConfig;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * How to reach one model endpoint: a typed view of the {@code llm.*} (or {@code llm.fallback.*})
 * options. Holds where the API key is, never the key: {@link #resolveApiKey()} reads it on the
 * TaskManager, so it is in no job graph, web UI or log.
 */
public record LlmSettings(
        String name,
        String baseUrl,
        String model,
        String apiKeyEnv,
        String apiKeyFile,
        Auth auth,
        String apiVersion,
        StructuredOutput structuredOutput,
        String maxTokensField,
        int requestsPerMinute,
        int tokensPerMinute,
        double temperature,
        int maxOutputTokens,
        Duration requestTimeout,
        Duration connectTimeout,
        double promptPricePerMillion,
        double completionPricePerMillion)
        implements Serializable {

    /** What a reply's tokens cost at this endpoint's prices. */
    public double cost(int promptTokens, int completionTokens) {
        return (promptTokens * promptPricePerMillion + completionTokens * completionPricePerMillion)
                / 1_000_000.0;
    }

    public static LlmSettings primary(ReadableConfig conf) {
        return from("primary", PRIMARY, conf);
    }

    /** The fallback endpoint, or null when {@code llm.fallback.base-url} is empty. */
    public static LlmSettings fallback(ReadableConfig conf) {
        return conf.get(FALLBACK.baseUrl).isBlank() ? null : from("fallback", FALLBACK, conf);
    }

    private static LlmSettings from(String name, EndpointOptions o, ReadableConfig conf) {
        LlmSettings s = fromOptions(name, o, conf);
        if (s.sendsKeyInClearText() && !conf.get(o.keyOverPlainHttp)) {
            throw new IllegalArgumentException(
                    "The "
                            + name
                            + " endpoint "
                            + s.baseUrl()
                            + " is plain http:// to another host, and "
                            + o.auth.key()
                            + " is "
                            + s.auth()
                            + ": the API key would cross the network in clear text. Use https://,"
                            + " set "
                            + o.auth.key()
                            + ": NONE for a server without keys, or "
                            + o.keyOverPlainHttp.key()
                            + ": true if the network is trusted.");
        }
        return s;
    }

    /**
     * Whether a key would be sent (auth not NONE, and a key env or file named) over plain HTTP to a
     * host other than loopback.
     */
    public boolean sendsKeyInClearText() {
        boolean keyNamed =
                (apiKeyEnv != null && !apiKeyEnv.isBlank())
                        || (apiKeyFile != null && !apiKeyFile.isBlank());
        if (auth == Auth.NONE || !keyNamed) {
            return false;
        }
        java.net.URI uri;
        try {
            uri = java.net.URI.create(baseUrl.strip());
        } catch (IllegalArgumentException e) {
            return false; // the client refuses it with its own message
        }
        return "http".equalsIgnoreCase(uri.getScheme()) && !isLoopback(uri.getHost());
    }

    static boolean isLoopback(String host) {
        if (host == null) {
            return false;
        }
        String h = host.toLowerCase(java.util.Locale.ROOT);
        return h.equals("localhost")
                || h.endsWith(".localhost")
                || h.equals("[::1]")
                || h.equals("::1")
                || h.matches("127(\\.\\d{1,3}){3}");
    }

    private static LlmSettings fromOptions(String name, EndpointOptions o, ReadableConfig conf) {
        return new LlmSettings(
                name,
                conf.get(o.baseUrl),
                conf.get(o.model),
                conf.get(o.apiKeyEnv),
                conf.get(o.apiKeyFile),
                conf.get(o.auth),
                conf.get(o.apiVersion),
                conf.get(o.structuredOutput),
                conf.get(o.maxTokensField),
                conf.get(o.requestsPerMinute),
                conf.get(o.tokensPerMinute),
                conf.get(LLM_TEMPERATURE),
                conf.get(LLM_MAX_OUTPUT_TOKENS),
                conf.get(LLM_REQUEST_TIMEOUT),
                conf.get(LLM_CONNECT_TIMEOUT),
                conf.get(o.promptPrice),
                conf.get(o.completionPrice));
    }

    /** The API key from the key file, else the environment variable; null when neither has one. */
    public String resolveApiKey() {
        return resolveApiKey(System.getenv());
    }

    String resolveApiKey(Map<String, String> env) {
        if (apiKeyFile != null && !apiKeyFile.isBlank()) {
            try {
                String key = Files.readString(Path.of(apiKeyFile), StandardCharsets.UTF_8).strip();
                return key.isEmpty() ? null : key;
            } catch (IOException e) {
                // The message names the file, never its content.
                throw new UncheckedIOException(
                        "cannot read the API key file of the " + name + " endpoint: " + apiKeyFile,
                        e);
            }
        }
        String key = apiKeyEnv == null || apiKeyEnv.isBlank() ? null : env.get(apiKeyEnv);
        return key == null || key.isBlank() ? null : key.strip();
    }
}
