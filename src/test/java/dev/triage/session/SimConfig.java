package dev.triage.session;

import dev.triage.config.EndpointOptions;
import dev.triage.config.GatewaySettings;
import dev.triage.config.LlmSettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.SessionSettings;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

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
            new PromptSettings(
                    "Triage.",
                    new TreeMap<>(
                            Map.of("billing", "money", "technical", "bugs", "other", "rest")));

    /** The largest parallelism a restore may pick. */
    int maxParallelismUsed() {
        return 4;
    }

    static SimConfig draw(SplittableRandom rnd) {
        long idle = Duration.ofMinutes(30).toMillis();
        var session =
                new SessionSettings(
                        1 + rnd.nextInt(4), // max in flight
                        rnd.nextInt(4), // max backlog
                        1 + rnd.nextInt(4), // history turns
                        new int[] {300, 700, 4000}[rnd.nextInt(3)], // history chars
                        4 + rnd.nextInt(7), // dedupe window
                        Duration.ofMillis(idle),
                        rnd.nextBoolean() ? 2 + rnd.nextInt(5) : 1_000); // max queued per session
        long unit = WALL_CLOCK_OPERATOR ? 1 : 250; // ms of backoff per unit
        var gateway =
                new GatewaySettings(
                        List.of(endpoint(5_000)),
                        2 + rnd.nextInt(3), // max attempts
                        Duration.ofMinutes(2), // ticket deadline
                        Duration.ofMillis(unit), // initial backoff
                        Duration.ofMillis(4 * unit), // max backoff
                        Duration.ofMillis(WALL_CLOCK_OPERATOR ? 5 : 30_000), // max advised wait
                        rnd.nextBoolean(), // repair invalid answers
                        0.5,
                        4 + rnd.nextInt(5), // breaker window
                        Duration.ofMillis(2 * unit), // open for
                        Duration.ofMillis(8 * unit), // max open for
                        false,
                        1,
                        false,
                        Duration.ofMinutes(1),
                        100);
        // The cluster's checkpoint timeout (flink-conf: 5 min) and the job's default transaction
        // timeout (kafka.transaction-timeout: 15 min), which bounds how long the input may stall.
        return new SimConfig(16, 1 + rnd.nextInt(3), session, gateway, 300_000, 900_000, 5_000);
    }

    private static LlmSettings endpoint(long requestTimeoutMillis) {
        return new LlmSettings(
                "primary",
                "http://sim/primary",
                "sim",
                "",
                "",
                EndpointOptions.Auth.NONE,
                "",
                EndpointOptions.StructuredOutput.JSON_SCHEMA,
                "max_tokens",
                0,
                0,
                0.0,
                100,
                Duration.ofMillis(requestTimeoutMillis),
                Duration.ofSeconds(1),
                0.0,
                0.0);
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
