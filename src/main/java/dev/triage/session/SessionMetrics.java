package dev.triage.session;

import static dev.triage.metrics.MetricNames.*;

import dev.triage.llm.Endpoint;
import dev.triage.llm.LlmGateway;
import dev.triage.metrics.LabelledCounters;
import dev.triage.records.DeadLetter;
import dev.triage.records.TriageResult;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/** The session operator's metrics, one method per thing that happened (names: MetricNames). */
final class SessionMetrics {

    private final MetricGroup group;
    private final LabelledCounters labelled;
    private final Counter ticketsQueued;
    private final Counter duplicateTickets;
    private final Counter llmCalls;
    private final Counter llmFailures;
    private final Counter llmRetries;
    private final Counter llmSucceeded;
    private final Counter llmRateLimited;
    private final Counter llmServerErrors;
    private final Counter llmTimeouts;
    private final Counter llmRejected;
    private final Counter llmInvalidAnswers;
    private final Counter repairAttempts;
    private final Counter fallbackCalls;
    private final Counter incidentCacheHits;
    private final Counter promptTokens;
    private final Counter completionTokens;
    private final Counter estimatedCostMicros;
    private final Counter rateLimitWaits;
    private final Counter rateLimitWaitMs;
    private final Histogram llmLatency;
    private final Histogram ticketLatency;
    private final Counter resultsEmitted;
    private final Counter deadLetters;
    private final Counter resumedAfterRestore;
    private final Counter sessionsExpired;

    SessionMetrics(MetricGroup group) {
        this.group = group;
        labelled = new LabelledCounters(group);
        ticketsQueued = group.counter(TICKETS_QUEUED_BEHIND_SESSION);
        duplicateTickets = group.counter(DUPLICATE_TICKETS);
        llmCalls = group.counter(LLM_CALLS);
        llmFailures = group.counter(LLM_FAILURES);
        llmRetries = group.counter(LLM_RETRIES);
        llmSucceeded = group.counter(LLM_SUCCEEDED);
        llmRateLimited = group.counter(LLM_RATE_LIMITED);
        llmServerErrors = group.counter(LLM_SERVER_ERRORS);
        llmTimeouts = group.counter(LLM_TIMEOUTS);
        llmRejected = group.counter(LLM_REJECTED);
        llmInvalidAnswers = group.counter(LLM_INVALID_ANSWERS);
        repairAttempts = group.counter(LLM_REPAIR_ATTEMPTS);
        fallbackCalls = group.counter(LLM_FALLBACK_CALLS);
        incidentCacheHits = group.counter(INCIDENT_CACHE_HITS);
        promptTokens = group.counter(PROMPT_TOKENS);
        completionTokens = group.counter(COMPLETION_TOKENS);
        estimatedCostMicros = group.counter(ESTIMATED_COST_MICROS);
        rateLimitWaits = group.counter(RATE_LIMIT_WAITS);
        rateLimitWaitMs = group.counter(RATE_LIMIT_WAIT_MS);
        llmLatency = group.histogram(LLM_LATENCY_MS, new DescriptiveStatisticsHistogram(1000));
        ticketLatency =
                group.histogram(TICKET_LATENCY_MS, new DescriptiveStatisticsHistogram(1000));
        resultsEmitted = group.counter(RESULTS_EMITTED);
        deadLetters = group.counter(DEAD_LETTERS);
        resumedAfterRestore = group.counter(TICKETS_RESUMED_AFTER_RESTORE);
        sessionsExpired = group.counter(SESSIONS_EXPIRED);
    }

    /** The gauges, read on the reporter's thread (as the operator always did). */
    void gauges(LlmGateway gateway, LongSupplier pending, IntSupplier inFlight, IntSupplier ready) {
        group.gauge(TICKETS_PENDING, (Gauge<Long>) pending::getAsLong);
        group.gauge(CALLS_IN_FLIGHT, (Gauge<Integer>) inFlight::getAsInt);
        group.gauge(CONCURRENCY_LIMIT, (Gauge<Integer>) gateway::concurrencyLimit);
        group.gauge(SESSIONS_READY_TO_SEND, (Gauge<Integer>) ready::getAsInt);
        group.gauge(
                ALLOWED_REQUESTS_PER_MINUTE,
                () -> gateway.allowedRequestsPerMinute(Endpoint.PRIMARY));
        // 0 closed, 1 half-open (probing), 2 open
        group.gauge(CIRCUIT_STATE, () -> gateway.circuit(Endpoint.PRIMARY).ordinal());
        group.gauge(CIRCUIT_OPENINGS, () -> gateway.circuitOpenings(Endpoint.PRIMARY));
        if (gateway.hasFallback()) {
            group.gauge(FALLBACK_CIRCUIT_STATE, () -> gateway.circuit(Endpoint.FALLBACK).ordinal());
        }
    }

    void duplicateDropped() {
        duplicateTickets.inc();
    }

    void queuedBehindSession() {
        ticketsQueued.inc();
    }

    void callSent(Endpoint endpoint) {
        llmCalls.inc();
        if (endpoint != Endpoint.PRIMARY) {
            fallbackCalls.inc();
        }
    }

    void callAnswered(long latencyMillis) {
        llmLatency.update(latencyMillis);
    }

    void billed(double cost) {
        estimatedCostMicros.inc(Math.round(1e6 * cost));
    }

    void answerUsable() {
        llmSucceeded.inc();
    }

    void answerUnusable() {
        llmInvalidAnswers.inc();
    }

    void repairAsked() {
        repairAttempts.inc();
    }

    void callFailed(OutcomePolicy.FailureKind kind) {
        llmFailures.inc();
        switch (kind) {
            case RATE_LIMITED -> llmRateLimited.inc();
            case TIMEOUT -> llmTimeouts.inc();
            case SERVER_ERROR -> llmServerErrors.inc();
            case REJECTED -> llmRejected.inc();
            case INVALID_RESPONSE -> {}
        }
    }

    void retryScheduled() {
        llmRetries.inc();
    }

    void rateLimitWait() {
        rateLimitWaits.inc();
    }

    void rateLimitWaited(long millis) {
        rateLimitWaitMs.inc(millis);
    }

    void incidentCacheHit() {
        incidentCacheHits.inc();
    }

    void resumedAfterRestore(long tickets) {
        resumedAfterRestore.inc(tickets);
    }

    void sessionExpired() {
        sessionsExpired.inc();
    }

    void resultEmitted(TriageResult result) {
        resultsEmitted.inc();
        promptTokens.inc(result.promptTokens());
        completionTokens.inc(result.completionTokens());
        ticketLatency.update(result.latencyMs());
        labelled.get(RESULTS_BY_CATEGORY, result.category()).inc();
        labelled.get(RESULTS_BY_PRIORITY, result.priority()).inc();
    }

    void deadLettered(DeadLetter letter) {
        deadLetters.inc();
        labelled.get(DEAD_LETTERS_BY_REASON, letter.reason()).inc();
    }
}
