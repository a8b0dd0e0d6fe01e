package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.session.SimSchedule.Step;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The deterministic simulation of the session operator (see docs/simulation.md): seeded schedules
 * of arrivals, provider outcomes, time, checkpoints and restores (also at other parallelism), each
 * checked against a reference model. A failure prints its seed and a shortened schedule.
 *
 * <p>{@code -Dsim.seed=N} replays one schedule; {@code -Dsim.schedules=N} runs N (a soak); {@code
 * -Dsim.firstSeed=N} and {@code -Dsim.length=N} move the window and the schedule length.
 *
 * <p>CI runs 2,000 schedules (seeds 1..2000, about two minutes on two cores); a soak of fresh seeds
 * is {@code -Dsim.schedules=50000 -Dsim.firstSeed=100000}.
 */
class SimulationTest {

    private static final int SCHEDULES = Integer.getInteger("sim.schedules", 2_000);
    private static final long FIRST_SEED = Long.getLong("sim.firstSeed", 1);
    private static final int LENGTH = Integer.getInteger("sim.length", 60);
    private static final int SHRINK_RUNS = Integer.getInteger("sim.shrinkRuns", 300);

    @Test
    void sessionOperatorKeepsItsGuaranteesUnderSeededSchedules() {
        // Thousands of simulated outages would flood the log; the report says what matters.
        Level before = LogManager.getLogger("dev.triage").getLevel();
        Configurator.setLevel("dev.triage", Level.OFF);
        try {
            runSchedules();
        } finally {
            Configurator.setLevel("dev.triage", before);
        }
    }

    private static void runSchedules() {
        String one = System.getProperty("sim.seed");
        if (one != null) {
            replay(Long.parseLong(one));
            return;
        }
        long started = System.nanoTime();
        Map<String, List<Long>> failures = new TreeMap<>();
        Map<String, SimWorld.Result> firstResult = new LinkedHashMap<>();
        Map<String, Long> totals = new TreeMap<>();
        for (long seed = FIRST_SEED; seed < FIRST_SEED + SCHEDULES; seed++) {
            SimSchedule schedule = SimSchedule.generate(seed, LENGTH);
            SimWorld.Result r = new SimWorld(schedule).run();
            r.stats()
                    .forEach(
                            (k, v) ->
                                    totals.merge(
                                            k, v, k.startsWith("max") ? Math::max : Long::sum));
            if (r.failed()) {
                failures.computeIfAbsent(r.violation().code(), k -> new ArrayList<>()).add(seed);
                firstResult.putIfAbsent(r.violation().code(), r);
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        StringBuilder report = new StringBuilder();
        report.append(
                String.format(
                        "%d schedules of %d steps in %.1f s; %d failed%n",
                        SCHEDULES,
                        LENGTH,
                        seconds,
                        failures.values().stream().mapToInt(List::size).sum()));
        report.append("totals: ").append(totals).append('\n');
        failures.forEach(
                (code, seeds) ->
                        report.append(
                                String.format(
                                        "  %-16s %5d schedules, seeds %s%n",
                                        code,
                                        seeds.size(),
                                        seeds.subList(0, Math.min(10, seeds.size())))));
        for (var e : failures.entrySet()) {
            long seed = e.getValue().get(0);
            report.append('\n').append(shrunk(seed, e.getKey()));
        }
        System.out.println(report);
        assertThat(failures).as(report.toString()).isEmpty();
    }

    private static void replay(long seed) {
        SimSchedule schedule = SimSchedule.generate(seed, LENGTH);
        SimWorld.Result r = new SimWorld(schedule).run();
        StringBuilder report = new StringBuilder();
        report.append(schedule.describe());
        report.append("stats: ").append(new TreeMap<>(r.stats())).append('\n');
        if (r.failed()) {
            report.append("FAILED at step ")
                    .append(r.step())
                    .append(": ")
                    .append(r.violation())
                    .append('\n');
            report.append('\n').append(shrunk(seed, r.violation().code()));
        } else {
            report.append("passed\n");
        }
        System.out.println(report);
        assertThat(r.failed()).as(report.toString()).isFalse();
    }

    /** The seed's schedule with as many steps dropped as still fail the same way. */
    static String shrunk(long seed, String code) {
        SimSchedule schedule = SimSchedule.generate(seed, LENGTH);
        List<Step> steps = new ArrayList<>(schedule.steps());
        SimWorld.Result last = new SimWorld(schedule).run();
        int budget = SHRINK_RUNS;
        int chunk = Math.max(1, steps.size() / 2);
        while (chunk >= 1 && budget > 0) {
            boolean removed = false;
            for (int i = 0; i < steps.size() && budget > 0; ) {
                List<Step> candidate = new ArrayList<>(steps.subList(0, i));
                candidate.addAll(steps.subList(Math.min(steps.size(), i + chunk), steps.size()));
                budget--;
                SimWorld.Result r = new SimWorld(schedule.withSteps(candidate)).run();
                if (r.failed() && r.violation().code().equals(code)) {
                    steps = candidate;
                    last = r;
                    removed = true;
                } else {
                    i += chunk;
                }
            }
            if (!removed) {
                chunk /= 2;
            }
        }
        return "["
                + code
                + "] seed "
                + seed
                + " shrunk to "
                + steps.size()
                + " steps (replay the full one with -Dsim.seed="
                + seed
                + "):\n"
                + schedule.withSteps(steps).describe()
                + "  -> at step "
                + last.step()
                + ": "
                + last.violation()
                + "\n";
    }
}
