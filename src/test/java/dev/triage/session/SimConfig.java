package dev.triage.session;

import dev.triage.config.GatewaySettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.SessionSettings;
import dev.triage.testing.TestSettings;

import java.util.SplittableRandom;

/** The operator's settings for one schedule, drawn from its seed, and the world's constants. */
record SimConfig(
        int maxParallelism,
        int parallelism,
        SessionSettings session,
        GatewaySettings gateway,
        long checkpointTimeoutMillis,
        long transactionTimeoutMillis,
        long requestTimeoutMillis) {

    /**
     * True while the operator still times retries, wake-ups and its circuit with the wall clock:
     * the gateway's waits are then kept to a few real milliseconds, and the world waits for them in
     * real time. Once the operator runs on one clock (Flink's ProcessingTimeService) every wait is
     * simulated time and realistic values are used.
     */
    static final boolean WALL_CLOCK_OPERATOR = false;

    static final PromptSettings PROMPTS =
            TestSettings.yaml(
                            """
                            triage.system-prompt: Triage.
                            triage.categories: {billing: money, technical: bugs, other: rest}
                            """)
                    .prompt();

    /** The endpoint and the gateway settings no schedule draws. */
    private static final String FIXED =
            """
            llm.base-url: http://sim/primary
            llm.model: sim
            llm.api-key-env: ""
            llm.auth: NONE
            llm.max-output-tokens: 100
            llm.request-timeout: 5s
            llm.connect-timeout: 1s
            llm.ticket-deadline: 2min
            llm.circuit-breaker.failure-rate: 0.5
            llm.adaptive-concurrency: false
            llm.adaptive-concurrency.min: 1
            llm.incident-cache.enabled: false
            llm.incident-cache.window: 1min
            llm.incident-cache.max-entries: 100
            session.idle-timeout: 30min
            """;

    /** The largest parallelism a restore may pick. */
    int maxParallelismUsed() {
        return 4;
    }

    static SimConfig draw(SplittableRandom rnd) {
        // Drawn in this order, whatever the order of the settings, so that a seed keeps its
        // schedule.
        int maxInFlight = 1 + rnd.nextInt(4);
        int maxBacklog = rnd.nextInt(4);
        int historyTurns = 1 + rnd.nextInt(4);
        int historyChars = new int[] {300, 700, 4000}[rnd.nextInt(3)];
        int dedupeWindow = 4 + rnd.nextInt(7);
        int maxQueuedPerSession = rnd.nextBoolean() ? 2 + rnd.nextInt(5) : 1_000;
        int maxAttempts = 2 + rnd.nextInt(3);
        boolean repairInvalidAnswers = rnd.nextBoolean();
        int breakerWindow = 4 + rnd.nextInt(5);
        long unit = WALL_CLOCK_OPERATOR ? 1 : 250; // ms of backoff per unit
        TestSettings settings =
                TestSettings.yaml(
                        FIXED,
                        "session.max-in-flight: " + maxInFlight,
                        "session.max-backlog: " + maxBacklog,
                        "session.history-turns: " + historyTurns,
                        "session.history-chars: " + historyChars,
                        "session.dedupe-window: " + dedupeWindow,
                        "session.max-queued-per-session: " + maxQueuedPerSession,
                        "llm.max-attempts: " + maxAttempts,
                        "llm.repair-invalid-answers: " + repairInvalidAnswers,
                        "llm.circuit-breaker.window: " + breakerWindow,
                        "llm.retry.initial-backoff: " + unit + "ms",
                        "llm.retry.max-backoff: " + 4 * unit + "ms",
                        "llm.retry.max-advised-wait: " + (WALL_CLOCK_OPERATOR ? 5 : 30_000) + "ms",
                        "llm.circuit-breaker.open-for: " + 2 * unit + "ms",
                        "llm.circuit-breaker.max-open-for: " + 8 * unit + "ms");
        // The cluster's checkpoint timeout (flink-conf: 5 min) and the job's default transaction
        // timeout (kafka.transaction-timeout: 15 min), which bounds how long the input may stall.
        return new SimConfig(
                16,
                1 + rnd.nextInt(3),
                settings.session(),
                settings.gateway(),
                300_000,
                900_000,
                settings.primary().requestTimeout().toMillis());
    }

    @Override
    public String toString() {
        var s = session;
        var g = gateway;
        return "parallelism "
                + parallelism
                + ", max-in-flight "
                + s.maxInFlight()
                + ", max-backlog "
                + s.maxBacklog()
                + ", max-queued-per-session "
                + s.maxQueuedPerSession()
                + ", history "
                + s.historyTurns()
                + " turns/"
                + s.historyChars()
                + " chars, dedupe "
                + s.dedupeWindow()
                + ", idle "
                + s.idleTimeout().toMillis()
                + "ms, max-attempts "
                + g.maxAttempts()
                + ", deadline "
                + g.ticketDeadline().toMillis()
                + "ms, repair "
                + g.repairInvalidAnswers()
                + ", breaker window "
                + g.breakerWindow();
    }
}
