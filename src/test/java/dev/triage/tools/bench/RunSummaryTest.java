package dev.triage.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

/** How a run's outputs become its result: first outputs only, hot against others, the drain. */
class RunSummaryTest {

    private static final Scenario SCENARIO =
            new Scenario(
                    "s",
                    "S",
                    List.of(),
                    List.of(),
                    4,
                    2,
                    0.5,
                    0,
                    1,
                    1,
                    10,
                    List.of(Pipeline.TRIAGE),
                    Map.of(),
                    60,
                    0);

    private static RunStats.Output out(String id, String session, boolean dead, long seenAt) {
        return new RunStats.Output(id, session, dead, 0, seenAt, seenAt);
    }

    @Test
    void countsFirstOutputsOfSentTicketsAndSplitsTheHotSession() throws Exception {
        List<RunStats.Output> outputs =
                List.of(
                        out("m-S-00001-T1", "m-S-00001", false, 1_300),
                        out("m-S-00002-T1", "m-S-00002", false, 1_100),
                        out("m-S-00002-T2", "m-S-00002", true, 1_200),
                        out("m-S-00001-T1", "m-S-00001", false, 1_900),
                        out("w-S-00001-T1", "w-S-00001", false, 1_000));
        RunSummary.Driven driven =
                new RunSummary.Driven(
                        Map.of(
                                "m-S-00001-T1", 1_000L,
                                "m-S-00002-T1", 1_050L,
                                "m-S-00002-T2", 1_060L,
                                "m-S-00003-T1", 1_070L),
                        1_000,
                        3_000,
                        1_200);

        RunResult r;
        try (CpuSampler cpu = new CpuSampler(ProcessHandle.current())) {
            r =
                    new RunSummary(SCENARIO, Pipeline.TRIAGE, 8)
                            .summarize(
                                    outputs,
                                    driven,
                                    4,
                                    cpu,
                                    Json.object().put("requests", 10).put("rate_limited", 1),
                                    Json.object().put("requests", 18).put("rate_limited", 3),
                                    2);
        }

        assertThat(r.correctness().answered()).isEqualTo(2);
        assertThat(r.correctness().deadLetters()).isEqualTo(1);
        assertThat(r.correctness().lost()).isEqualTo(1);
        assertThat(r.correctness().finished()).isFalse();
        assertThat(r.correctness().duplicates()).isEqualTo(1);
        assertThat(r.latency().hotP99Ms()).isEqualTo(300);
        assertThat(r.latency().othersP99Ms()).isEqualTo(50);
        assertThat(r.latency().sortedLatencies()).containsExactly(50, 300);
        assertThat(r.cost().requests()).isEqualTo(8);
        assertThat(r.cost().rateLimited()).isEqualTo(2);
        assertThat(r.cost().llmCallsPerTicket()).isEqualTo(2.0);
        assertThat(r.cost().rateLimitedShare()).isEqualTo(0.25);
        assertThat(r.recovery().drainSeconds())
                .isEqualTo(
                        0.1); // the last answer sent before the outage ended came 100 ms after it
        assertThat(r.recovery().restarts()).isEqualTo(2);
        assertThat(r.wallSeconds()).isEqualTo(2.0);
        assertThat(r.inFlight()).isEqualTo(8);
    }
}
