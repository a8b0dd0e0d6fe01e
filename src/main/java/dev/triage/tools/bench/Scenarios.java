package dev.triage.tools.bench;

import static dev.triage.tools.bench.Pipeline.ASYNC_ORDERED;
import static dev.triage.tools.bench.Pipeline.ASYNC_UNORDERED;
import static dev.triage.tools.bench.Pipeline.PASS_THROUGH;
import static dev.triage.tools.bench.Pipeline.SQL_ML_PREDICT;
import static dev.triage.tools.bench.Pipeline.TRIAGE;
import static dev.triage.tools.bench.Pipeline.WORKER_POOL;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The scenarios of issue 6, in a full size (minutes per pipeline, every peer) and a quick size
 * (this job alone, plus the floor; what CI runs). Parallelism 2 and 64 calls in flight per subtask
 * throughout, unless a scenario says otherwise.
 */
final class Scenarios {

    static final int PARALLELISM = 2;
    static final int IN_FLIGHT = 64;
    static final int LATENCY_MS = 200;
    static final int RPM = 3000;

    /** The in-flight settings of the capacity sweep (full run only). */
    static final int[] SWEEP = {8, 16, 32, 64, 128};

    private Scenarios() {}

    /** Little's law: parallelism × calls in flight ÷ latency. */
    static double littlesLaw(int inFlight) {
        return PARALLELISM * inFlight * 1000.0 / LATENCY_MS;
    }

    static List<Scenario> all(boolean quick) {
        List<Scenario> s = new ArrayList<>();
        s.add(
                new Scenario(
                        "latency-bound",
                        "Simulator latency 200 ms, 64 calls in flight per subtask, a backlog",
                        List.of("--latency-ms", String.valueOf(LATENCY_MS)),
                        List.of(),
                        quick ? 9_000 : 20_000,
                        quick ? 2_250 : 5_000,
                        0,
                        0,
                        -1,
                        0,
                        littlesLaw(IN_FLIGHT),
                        quick
                                ? List.of(TRIAGE)
                                : List.of(
                                        TRIAGE,
                                        ASYNC_UNORDERED,
                                        ASYNC_ORDERED,
                                        SQL_ML_PREDICT,
                                        WORKER_POOL),
                        Map.of(SQL_ML_PREDICT, 2_000),
                        quick ? 120 : 300,
                        // The quick run's gate is steady-state throughput: on two cores the
                        // pipeline's JIT is still compiling after 2,000 tickets, and then it
                        // measures the compiler (1.9 CPU-s per 1,000 tickets against 1.2 warm).
                        quick ? 4_000 : 2_000));
        s.add(
                new Scenario(
                        "cpu-bound",
                        "Simulator latency 0: the pipeline's own ceiling, a backlog",
                        List.of("--latency-ms", "0"),
                        List.of(),
                        quick ? 10_000 : 40_000,
                        quick ? 2_500 : 10_000,
                        0,
                        0,
                        -1,
                        0,
                        0,
                        quick
                                ? List.of(TRIAGE, PASS_THROUGH)
                                : List.of(
                                        TRIAGE,
                                        ASYNC_UNORDERED,
                                        ASYNC_ORDERED,
                                        SQL_ML_PREDICT,
                                        WORKER_POOL,
                                        PASS_THROUGH),
                        Map.of(SQL_ML_PREDICT, 5_000, PASS_THROUGH, quick ? 100_000 : 400_000),
                        quick ? 120 : 300,
                        2_000));
        s.add(
                new Scenario(
                        "rate-limited",
                        "Provider limit 3,000 requests/minute (429s with Retry-After), latency"
                                + " 200 ms, a backlog; this job is told the limit"
                                + " (llm.rate-limit.requests-per-minute)",
                        List.of(
                                "--latency-ms", String.valueOf(LATENCY_MS),
                                "--rpm", String.valueOf(RPM)),
                        List.of("llm.rate-limit.requests-per-minute=" + RPM),
                        quick ? 2_500 : 4_000,
                        quick ? 600 : 1_000,
                        0,
                        0,
                        -1,
                        0,
                        RPM / 60.0,
                        quick ? List.of(TRIAGE) : List.of(TRIAGE, ASYNC_UNORDERED, WORKER_POOL),
                        Map.of(),
                        quick ? 150 : 360,
                        200));
        s.add(
                new Scenario(
                        "hot-session",
                        "20% of tickets in one session, 40 tickets/s, latency median 50 ms and p99"
                                + " 500 ms",
                        List.of("--latency-ms", "50", "--latency-p99-ms", "500"),
                        List.of(),
                        quick ? 1_200 : 2_400,
                        1_000,
                        0.2,
                        40,
                        -1,
                        0,
                        0,
                        quick
                                ? List.of(TRIAGE)
                                : List.of(TRIAGE, ASYNC_UNORDERED, ASYNC_ORDERED, WORKER_POOL),
                        Map.of(),
                        quick ? 120 : 240,
                        400));
        s.add(
                new Scenario(
                        "fault",
                        "100 tickets/s, latency 200 ms, a 30-second provider outage (503) midway",
                        List.of("--latency-ms", String.valueOf(LATENCY_MS)),
                        List.of(),
                        quick ? 7_000 : 9_000,
                        quick ? 1_750 : 2_250,
                        0,
                        100,
                        quick ? 20 : 30,
                        30,
                        0,
                        quick ? List.of(TRIAGE) : List.of(TRIAGE, ASYNC_UNORDERED, WORKER_POOL),
                        Map.of(),
                        quick ? 180 : 300,
                        1_000));
        return s;
    }

    /** Latency-bound at several in-flight settings: throughput against capacity. */
    static List<Scenario> sweep(Scenario latencyBound) {
        List<Scenario> runs = new ArrayList<>();
        for (int inFlight : SWEEP) {
            double limit = littlesLaw(inFlight);
            runs.add(
                    latencyBound.with(
                            "capacity-sweep",
                            List.of(TRIAGE, ASYNC_UNORDERED),
                            List.of(),
                            limit,
                            (int) Math.max(2_000, limit * 15)));
        }
        return runs;
    }
}
