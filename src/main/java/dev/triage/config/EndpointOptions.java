package dev.triage.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.util.List;

/**
 * The settings of one OpenAI-compatible endpoint, declared once for the primary ({@code llm.*}) and
 * once for the fallback ({@code llm.fallback.*}), so the two can be different backends.
 */
public final class EndpointOptions {

    /** How the API key is sent. */
    public enum Auth {
        /** {@code Authorization: Bearer KEY}: OpenAI and nearly every compatible server. */
        BEARER,
        /** {@code api-key: KEY}: Azure OpenAI. */
        API_KEY,
        /** No credentials: a local server. */
        NONE
    }

    /** How the answer's JSON shape is requested. */
    public enum StructuredOutput {
        /** {@code response_format: json_schema, strict}: OpenAI, Azure, vLLM, Ollama, llama.cpp. */
        JSON_SCHEMA,
        /** {@code response_format: json_object}: JSON mode; the schema is in the prompt. */
        JSON_OBJECT,
        /** Nothing in the request; the schema is in the prompt, and the answer is validated. */
        PROMPT
    }

    public final ConfigOption<String> baseUrl;
    public final ConfigOption<String> model;
    public final ConfigOption<String> apiKeyEnv;
    public final ConfigOption<String> apiKeyFile;
    public final ConfigOption<Auth> auth;
    public final ConfigOption<String> apiVersion;
    public final ConfigOption<StructuredOutput> structuredOutput;
    public final ConfigOption<String> maxTokensField;
    public final ConfigOption<Integer> requestsPerMinute;
    public final ConfigOption<Integer> tokensPerMinute;
    public final ConfigOption<Double> promptPrice;
    public final ConfigOption<Double> completionPrice;
    public final ConfigOption<Boolean> keyOverPlainHttp;
    public final ConfigOption<String> proxyUrl;
    public final ConfigOption<String> proxyUsername;
    public final ConfigOption<String> proxyPasswordEnv;
    public final ConfigOption<String> proxyPasswordFile;

    /**
     * @param defaultKeyEnv the environment variable the key is read from unless set; empty for the
     *     fallback, so that pointing it at another host never sends it the primary's key
     */
    EndpointOptions(
            String prefix,
            String defaultUrl,
            String defaultModel,
            String defaultKeyEnv,
            String what) {
        baseUrl =
                ConfigOptions.key(prefix + "base-url")
                        .stringType()
                        .defaultValue(defaultUrl)
                        .withDescription(
                                what
                                        + "base URL of an OpenAI-compatible API; /chat/completions is"
                                        + " appended. Azure: https://RESOURCE.openai.azure.com/openai/"
                                        + "deployments/DEPLOYMENT (with api-version) or .../openai/v1."
                                        + (defaultUrl.isEmpty() ? " Empty: no fallback." : ""));
        model =
                ConfigOptions.key(prefix + "model")
                        .stringType()
                        .defaultValue(defaultModel)
                        .withDescription(what + "model name sent in every request.");
        apiKeyEnv =
                ConfigOptions.key(prefix + "api-key-env")
                        .stringType()
                        .defaultValue(defaultKeyEnv)
                        .withDescription(
                                what
                                        + "environment variable (on the TaskManagers) that holds the"
                                        + " API key. The key is never a setting, never logged, and"
                                        + " never written to a dead letter."
                                        + (defaultKeyEnv.isEmpty()
                                                ? " Empty by default: the fallback gets no key"
                                                        + " unless it is given one of its own."
                                                : ""));
        keyOverPlainHttp =
                ConfigOptions.key(prefix + "allow-key-over-plain-http")
                        .booleanType()
                        .defaultValue(false)
                        .withDescription(
                                what
                                        + "send the API key over http:// to a host other than"
                                        + " loopback. Off: such a setting fails at submission (use"
                                        + " https, or auth NONE for a server without keys).");
        apiKeyFile =
                ConfigOptions.key(prefix + "api-key-file")
                        .stringType()
                        .defaultValue("")
                        .withDescription(
                                what
                                        + "file (on the TaskManagers, e.g. a mounted secret) whose"
                                        + " content is the API key; takes precedence over the"
                                        + " environment variable.");
        auth =
                ConfigOptions.key(prefix + "auth")
                        .enumType(Auth.class)
                        .defaultValue(Auth.BEARER)
                        .withDescription(
                                what
                                        + "how the key is sent: BEARER (Authorization header), API_KEY"
                                        + " (Azure's api-key header) or NONE.");
        apiVersion =
                ConfigOptions.key(prefix + "api-version")
                        .stringType()
                        .defaultValue("")
                        .withDescription(
                                what
                                        + "api-version query parameter (Azure deployment paths, e.g."
                                        + " 2024-10-21); empty: none.");
        structuredOutput =
                ConfigOptions.key(prefix + "structured-output")
                        .enumType(StructuredOutput.class)
                        .defaultValue(StructuredOutput.JSON_SCHEMA)
                        .withDescription(
                                what
                                        + "JSON_SCHEMA (strict schema in response_format), JSON_OBJECT"
                                        + " (JSON mode, schema in the prompt) or PROMPT (schema in the"
                                        + " prompt only). Answers are validated in every mode.");
        maxTokensField =
                ConfigOptions.key(prefix + "max-tokens-field")
                        .stringType()
                        .defaultValue("max_tokens")
                        .withDescription(
                                what
                                        + "request field for the output limit: max_tokens (vLLM,"
                                        + " Ollama, llama.cpp, Azure) or max_completion_tokens (newer"
                                        + " OpenAI models).");
        requestsPerMinute =
                ConfigOptions.key(prefix + "rate-limit.requests-per-minute")
                        .intType()
                        .defaultValue(0)
                        .withDescription(
                                what
                                        + "the provider's request limit for the whole job (0: none)."
                                        + " Split evenly across the subtasks and split again when the"
                                        + " parallelism changes; halved on a 429 or when"
                                        + " x-ratelimit-remaining runs out, regained on success.");
        tokensPerMinute =
                ConfigOptions.key(prefix + "rate-limit.tokens-per-minute")
                        .intType()
                        .defaultValue(0)
                        .withDescription(
                                what
                                        + "the provider's token limit for the whole job (0: none). A"
                                        + " request counts its estimated prompt tokens (characters / 4)"
                                        + " plus llm.max-output-tokens, as providers count it.");
        promptPrice =
                ConfigOptions.key(prefix + "price.prompt-per-million-tokens")
                        .doubleType()
                        .defaultValue(0.0)
                        .withDescription(
                                what
                                        + "price of 1M prompt (input) tokens, in any currency, for"
                                        + " the estimatedCostMicros metric (0: not priced).");
        completionPrice =
                ConfigOptions.key(prefix + "price.completion-per-million-tokens")
                        .doubleType()
                        .defaultValue(0.0)
                        .withDescription(
                                what
                                        + "price of 1M completion (output) tokens, for the"
                                        + " estimatedCostMicros metric (0: not priced).");
        // Per endpoint, and not inherited by the fallback: the fallback is typically another
        // network location (a vLLM inside the network while the primary is a provider reached
        // through the egress proxy), and it already gets nothing of the primary's by default.
        proxyUrl =
                ConfigOptions.key(prefix + "proxy.url")
                        .stringType()
                        .defaultValue("")
                        .withDescription(
                                what
                                        + "HTTP proxy every call to this endpoint goes through, as"
                                        + " http://HOST:PORT (empty: none"
                                        + (what.isEmpty()
                                                ? "; the fallback does not inherit it"
                                                : "; llm.proxy.url is not inherited")
                                        + "). An https:// endpoint is reached through"
                                        + " a CONNECT tunnel, so the proxy sees only its host and"
                                        + " port; a plain http:// one is sent to the proxy, key and"
                                        + " tickets included. JVM proxy properties are ignored.");
        proxyUsername =
                ConfigOptions.key(prefix + "proxy.username")
                        .stringType()
                        .defaultValue("")
                        .withDescription(
                                what
                                        + "user name for the proxy's Basic authentication (empty:"
                                        + " none); the password comes from "
                                        + prefix
                                        + "proxy.password-file or -env, never from a setting.");
        proxyPasswordEnv =
                ConfigOptions.key(prefix + "proxy.password-env")
                        .stringType()
                        .defaultValue("")
                        .withDescription(
                                what
                                        + "environment variable (on the TaskManagers) that holds the"
                                        + " proxy password. Never logged.");
        proxyPasswordFile =
                ConfigOptions.key(prefix + "proxy.password-file")
                        .stringType()
                        .defaultValue("")
                        .withDescription(
                                what
                                        + "file (on the TaskManagers) whose content is the proxy"
                                        + " password; takes precedence over the environment"
                                        + " variable.");
    }

    List<ConfigOption<?>> all() {
        return List.of(
                baseUrl,
                model,
                apiKeyEnv,
                apiKeyFile,
                auth,
                apiVersion,
                structuredOutput,
                maxTokensField,
                requestsPerMinute,
                tokensPerMinute,
                promptPrice,
                completionPrice,
                keyOverPlainHttp,
                proxyUrl,
                proxyUsername,
                proxyPasswordEnv,
                proxyPasswordFile);
    }
}
