package dev.triage.config;

import static dev.triage.config.TriageOptions.*;

import org.apache.flink.configuration.ReadableConfig;

import java.io.Serializable;
import java.time.Duration;

/** Per-session behaviour of the triage operator: a typed view of the {@code session.*} options. */
public record SessionSettings(
        int maxInFlight,
        int historyTurns,
        int historyChars,
        int dedupeWindow,
        Duration idleTimeout,
        int maxAttempts,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration maxAdvisedWait,
        int requestsPerMinute,
        int tokensPerMinute,
        int maxOutputTokens)
        implements Serializable {

    public SessionSettings {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("session.max-in-flight must be at least 1");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("llm.max-attempts must be at least 1");
        }
    }

    public static SessionSettings from(ReadableConfig conf) {
        return new SessionSettings(
                conf.get(MAX_IN_FLIGHT),
                conf.get(HISTORY_TURNS),
                conf.get(HISTORY_CHARS),
                conf.get(DEDUPE_WINDOW),
                conf.get(SESSION_IDLE_TIMEOUT),
                conf.get(LLM_MAX_ATTEMPTS),
                conf.get(LLM_RETRY_INITIAL_BACKOFF),
                conf.get(LLM_RETRY_MAX_BACKOFF),
                conf.get(LLM_RETRY_MAX_ADVISED_WAIT),
                conf.get(RATE_LIMIT_RPM),
                conf.get(RATE_LIMIT_TPM),
                conf.get(LLM_MAX_OUTPUT_TOKENS));
    }
}
