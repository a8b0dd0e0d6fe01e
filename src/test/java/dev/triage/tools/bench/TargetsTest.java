package dev.triage.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TargetsTest {

    private static RunResult run(
            String scenario,
            Pipeline pipeline,
            double fraction,
            long requests,
            long limited,
            int lost,
            int repeats,
            int outOfOrder,
            double othersP99,
            int deadLetters) {
        return new RunResult(
                scenario,
                pipeline,
                64,
                1000,
                10,
                new RunResult.Correctness(
                        lost == 0,
                        1000 - lost - deadLetters,
                        deadLetters,
                        lost,
                        repeats,
                        outOfOrder),
                new RunResult.Throughput(600, fraction, new int[0]),
                new RunResult.Latency(1, 2, 3, 1, 1, othersP99, new long[0]),
                new RunResult.Cost(1, 1, requests, limited),
                new RunResult.Recovery(Double.NaN, 0));
    }

    @Test
    void latencyBoundNeedsTheFractionOfLittlesLaw() {
        RunResult r = run("latency-bound", Pipeline.TRIAGE, 0.93, 1000, 0, 0, 0, 0, 1, 0);
        assertThat(Targets.misses(r, true)).isEmpty();
        assertThat(Targets.misses(r, false)).singleElement().asString().contains("below 0.95");
    }

    @Test
    void rateLimitedAlsoNeedsFewerThanOnePercent429s() {
        RunResult r = run("rate-limited", Pipeline.TRIAGE, 0.99, 1000, 10, 0, 0, 0, 1, 0);
        assertThat(Targets.misses(r, false)).singleElement().asString().contains("429");
        RunResult ok = run("rate-limited", Pipeline.TRIAGE, 0.99, 1000, 9, 0, 0, 0, 1, 0);
        assertThat(Targets.misses(ok, false)).isEmpty();
    }

    @Test
    void everyScenarioNeedsEveryTicketOnceAndInOrder() {
        RunResult r = run("cpu-bound", Pipeline.TRIAGE, Double.NaN, 1000, 0, 2, 1, 3, 1, 0);
        assertThat(Targets.misses(r, true))
                .hasSize(3)
                .anySatisfy(m -> assertThat(m).contains("never came out"))
                .anySatisfy(m -> assertThat(m).contains("more than once"))
                .anySatisfy(m -> assertThat(m).contains("out of session order"));
    }

    @Test
    void hotSessionAndFaultHaveTheirOwnTargets() {
        assertThat(
                        Targets.misses(
                                run(
                                        "hot-session",
                                        Pipeline.TRIAGE,
                                        Double.NaN,
                                        1,
                                        0,
                                        0,
                                        0,
                                        0,
                                        4500,
                                        0),
                                true))
                .singleElement()
                .asString()
                .contains("other sessions");
        assertThat(
                        Targets.misses(
                                run("fault", Pipeline.TRIAGE, Double.NaN, 1, 0, 0, 0, 0, 1, 5),
                                true))
                .singleElement()
                .asString()
                .contains("dead-lettered");
    }

    @Test
    void peersAreMeasuredNotJudged() {
        RunResult r = run("rate-limited", Pipeline.WORKER_POOL, 0.5, 1000, 500, 9, 9, 9, 1, 100);
        assertThat(Targets.misses(r, false)).isEmpty();
    }
}
