package dev.triage.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.List;

class RunStatsTest {

    private static RunStats.Output out(String id, String session) {
        return new RunStats.Output(id, session, false, 0, 0, 0);
    }

    @Test
    void percentilesAreNearestRank() {
        long[] v = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
        assertThat(RunStats.percentile(v, 50)).isEqualTo(50);
        assertThat(RunStats.percentile(v, 95)).isEqualTo(100);
        assertThat(RunStats.percentile(v, 10)).isEqualTo(10);
        assertThat(RunStats.percentile(new long[0], 50)).isNaN();
    }

    @Test
    void steadyThroughputLeavesOutStartAndTail() {
        // 1,000 results at 100/s, plus a 30-s start-up gap before the first and a straggler.
        long[] t = new long[1000];
        for (int i = 0; i < t.length; i++) {
            t[i] = 30_000 + i * 10L;
        }
        t[999] = 500_000;
        assertThat(RunStats.steadyThroughput(RunStats.sorted(t))).isCloseTo(100.0, within(0.5));
    }

    @Test
    void interpolatesCpuSamples() {
        long[] times = {0, 1000, 2000};
        double[] cpu = {0.0, 1.0, 3.0};
        assertThat(RunStats.interpolate(times, cpu, 1500)).isEqualTo(2.0);
        assertThat(RunStats.interpolate(times, cpu, -5)).isEqualTo(0.0);
        assertThat(RunStats.interpolate(times, cpu, 9000)).isEqualTo(3.0);
    }

    @Test
    void countsOutOfOrderTurnsButNotRepeats() {
        List<RunStats.Output> outputs =
                List.of(
                        out("m-S-00001-T1", "m-S-00001"),
                        out("m-S-00002-T1", "m-S-00002"),
                        out("m-S-00001-T3", "m-S-00001"),
                        out("m-S-00001-T2", "m-S-00001"), // after T3: out of order
                        out("m-S-00001-T3", "m-S-00001"), // a repeat
                        out("m-S-00002-T2", "m-S-00002"));
        assertThat(RunStats.orderViolations(outputs)).isEqualTo(1);
        assertThat(RunStats.duplicates(outputs)).isEqualTo(1);
        assertThat(RunStats.turn("m-S-00001-T12")).isEqualTo(12);
        assertThat(RunStats.turn("w-x")).isEqualTo(-1);
    }

    @Test
    void bucketsResultsPerSecond() {
        int[] b = RunStats.perSecond(new long[] {1000, 1500, 2999, 3000, 9000}, 1000, 3);
        assertThat(b).containsExactly(2, 1, 1);
    }

    private static org.assertj.core.data.Offset<Double> within(double d) {
        return org.assertj.core.data.Offset.offset(d);
    }
}
