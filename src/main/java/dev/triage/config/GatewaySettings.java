package dev.triage.config;

import static dev.triage.config.TriageOptions.*;

import org.apache.flink.configuration.ReadableConfig;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How the job talks to its model endpoints: retries, deadline, circuit breaker, adaptive
 * concurrency, answer repair and the incident cache; a typed view of the {@code llm.*} options.
 *
 * @param endpoints the primary endpoint, then the fallback when one is configured
 */
public record GatewaySettings(
        List<LlmSettings> endpoints,
        int maxAttempts,
        Duration ticketDeadline,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration maxAdvisedWait,
        boolean repairInvalidAnswers,
        double breakerFailureRate,
        int breakerWindow,
        Duration breakerOpenFor,
        Duration breakerMaxOpenFor,
        boolean adaptiveConcurrency,
        int minConcurrency,
        boolean incidentCache,
        Duration incidentCacheWindow,
        int incidentCacheMaxEntries)
        implements Serializable {

    public GatewaySettings {
        endpoints = List.copyOf(endpoints);
        if (endpoints.isEmpty() || endpoints.size() > 2) {
            throw new IllegalArgumentException("one primary and at most one fallback endpoint");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("llm.max-attempts must be at least 1");
        }
        if (!(breakerFailureRate > 0 && breakerFailureRate <= 1)) {
            throw new IllegalArgumentException(
                    "llm.circuit-breaker.failure-rate must be in (0, 1]");
        }
        if (breakerWindow < 1 || minConcurrency < 1) {
            throw new IllegalArgumentException(
                    "llm.circuit-breaker.window and llm.adaptive-concurrency.min must be positive");
        }
    }

    public static GatewaySettings from(ReadableConfig conf) {
        List<LlmSettings> endpoints = new ArrayList<>();
        endpoints.add(LlmSettings.primary(conf));
        LlmSettings fallback = LlmSettings.fallback(conf);
        if (fallback != null) {
            endpoints.add(fallback);
        }
        return new GatewaySettings(
                endpoints,
                conf.get(LLM_MAX_ATTEMPTS),
                conf.get(LLM_TICKET_DEADLINE),
                conf.get(LLM_RETRY_INITIAL_BACKOFF),
                conf.get(LLM_RETRY_MAX_BACKOFF),
                conf.get(LLM_RETRY_MAX_ADVISED_WAIT),
                conf.get(LLM_REPAIR_INVALID_ANSWERS),
                conf.get(BREAKER_FAILURE_RATE),
                conf.get(BREAKER_WINDOW),
                conf.get(BREAKER_OPEN_FOR),
                conf.get(BREAKER_MAX_OPEN_FOR),
                conf.get(ADAPTIVE_CONCURRENCY),
                conf.get(MIN_CONCURRENCY),
                conf.get(INCIDENT_CACHE),
                conf.get(INCIDENT_CACHE_WINDOW),
                conf.get(INCIDENT_CACHE_MAX_ENTRIES));
    }

    public LlmSettings primary() {
        return endpoints.get(0);
    }

    public int maxOutputTokens() {
        return primary().maxOutputTokens();
    }
}
