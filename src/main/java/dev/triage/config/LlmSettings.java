package dev.triage.config;

import static dev.triage.config.TriageOptions.*;

import org.apache.flink.configuration.ReadableConfig;

import java.io.Serializable;
import java.time.Duration;

/** How to reach the model: a typed view of the {@code llm.*} options. */
public record LlmSettings(
        String baseUrl,
        String model,
        String apiKeyEnv,
        double temperature,
        int maxOutputTokens,
        String maxTokensField,
        Duration requestTimeout,
        Duration connectTimeout)
        implements Serializable {

    public static LlmSettings from(ReadableConfig conf) {
        return new LlmSettings(
                conf.get(LLM_BASE_URL),
                conf.get(LLM_MODEL),
                conf.get(LLM_API_KEY_ENV),
                conf.get(LLM_TEMPERATURE),
                conf.get(LLM_MAX_OUTPUT_TOKENS),
                conf.get(LLM_MAX_TOKENS_FIELD),
                conf.get(LLM_REQUEST_TIMEOUT),
                conf.get(LLM_CONNECT_TIMEOUT));
    }
}
