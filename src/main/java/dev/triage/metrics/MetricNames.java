package dev.triage.metrics;

/**
 * Every metric name the job registers, declared once: the operators register by these constants and
 * the dashboard test reads them, so a renamed metric cannot leave an empty panel or a silent alert.
 * A {@link Labelled} metric appears in Prometheus as {@code <key>_<name>} with the value as a
 * label.
 */
public final class MetricNames {

    private MetricNames() {}

    /** A counter in a labelled sub-group: {@code key} names the label, {@code name} the counter. */
    public record Labelled(String key, String name) {
        /** The name Prometheus shows (Flink joins a group's key and the metric's name). */
        public String prometheusName() {
            return key + "_" + name;
        }
    }

    /** The keys of labelled groups. */
    public static final class Labels {
        private Labels() {}

        public static final String CATEGORY = "category";
        public static final String PRIORITY = "priority";
        public static final String REASON = "reason";
    }

    // ---------------------------------------------------------------- the session operator
    public static final String TICKETS_QUEUED_BEHIND_SESSION = "ticketsQueuedBehindSession";
    public static final String DUPLICATE_TICKETS = "duplicateTickets";
    public static final String LLM_CALLS = "llmCalls";
    public static final String LLM_FAILURES = "llmFailures";
    public static final String LLM_RETRIES = "llmRetries";
    public static final String LLM_SUCCEEDED = "llmSucceeded";
    public static final String LLM_RATE_LIMITED = "llmRateLimited";
    public static final String LLM_SERVER_ERRORS = "llmServerErrors";
    public static final String LLM_TIMEOUTS = "llmTimeouts";
    public static final String LLM_REJECTED = "llmRejected";
    public static final String LLM_INVALID_ANSWERS = "llmInvalidAnswers";
    public static final String LLM_REPAIR_ATTEMPTS = "llmRepairAttempts";
    public static final String LLM_FALLBACK_CALLS = "llmFallbackCalls";
    public static final String INCIDENT_CACHE_HITS = "incidentCacheHits";
    public static final String PROMPT_TOKENS = "promptTokens";
    public static final String COMPLETION_TOKENS = "completionTokens";

    /** Every billed reply at its endpoint's prices (llm.price.*), usable or not, in millionths. */
    public static final String ESTIMATED_COST_MICROS = "estimatedCostMicros";

    public static final String RATE_LIMIT_WAITS = "rateLimitWaits";
    public static final String RATE_LIMIT_WAIT_MS = "rateLimitWaitMs";
    public static final String LLM_LATENCY_MS = "llmLatencyMs";
    public static final String TICKET_LATENCY_MS = "ticketLatencyMs";
    public static final String RESULTS_EMITTED = "resultsEmitted";
    public static final String DEAD_LETTERS = "deadLetters";
    public static final String TICKETS_RESUMED_AFTER_RESTORE = "ticketsResumedAfterRestore";
    public static final String SESSIONS_EXPIRED = "sessionsExpired";
    public static final String TICKETS_PENDING = "ticketsPending";
    public static final String CALLS_IN_FLIGHT = "callsInFlight";
    public static final String CONCURRENCY_LIMIT = "concurrencyLimit";
    public static final String SESSIONS_READY_TO_SEND = "sessionsReadyToSend";
    public static final String ALLOWED_REQUESTS_PER_MINUTE = "allowedRequestsPerMinute";

    /** 0 closed, 1 half-open (probing), 2 open. */
    public static final String CIRCUIT_STATE = "circuitState";

    public static final String CIRCUIT_OPENINGS = "circuitOpenings";
    public static final String FALLBACK_CIRCUIT_STATE = "fallbackCircuitState";

    public static final Labelled RESULTS_BY_CATEGORY = new Labelled(Labels.CATEGORY, "results");
    public static final Labelled RESULTS_BY_PRIORITY = new Labelled(Labels.PRIORITY, "results");

    /** Dead letters per reason: the session operator's and the ticket parser's. */
    public static final Labelled DEAD_LETTERS_BY_REASON = new Labelled(Labels.REASON, DEAD_LETTERS);

    // ---------------------------------------------------------------- ingest and history
    public static final String TICKETS_WITHOUT_PROFILE = "ticketsWithoutProfile";
    public static final String TICKETS_WITH_PROFILE = "ticketsWithProfile";

    /** Records of the results topic that were not taken as history. */
    public static final String HISTORY_RECORDS_REJECTED = "historyRecordsRejected";
}
