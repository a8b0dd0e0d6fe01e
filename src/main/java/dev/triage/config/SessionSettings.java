package dev.triage.config;

import static dev.triage.config.TriageOptions.*;

import org.apache.flink.configuration.ReadableConfig;

import java.io.Serializable;
import java.time.Duration;

/** Per-session behaviour of the triage operator: a typed view of the {@code session.*} options. */
public record SessionSettings(
        int maxInFlight,
        int maxBacklog,
        int historyTurns,
        int historyChars,
        int dedupeWindow,
        Duration idleTimeout,
        int maxQueuedPerSession)
        implements Serializable {

    public SessionSettings {
        if (maxQueuedPerSession < 1) {
            throw new IllegalArgumentException("session.max-queued-per-session must be at least 1");
        }
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("session.max-in-flight must be at least 1");
        }
        if (maxBacklog < 0) {
            throw new IllegalArgumentException("session.max-backlog must not be negative");
        }
    }

    public static SessionSettings from(ReadableConfig conf) {
        return new SessionSettings(
                conf.get(MAX_IN_FLIGHT),
                conf.get(MAX_BACKLOG),
                conf.get(HISTORY_TURNS),
                conf.get(HISTORY_CHARS),
                conf.get(DEDUPE_WINDOW),
                conf.get(SESSION_IDLE_TIMEOUT),
                conf.get(MAX_QUEUED_PER_SESSION));
    }
}
