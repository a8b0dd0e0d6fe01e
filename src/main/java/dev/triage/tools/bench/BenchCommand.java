package dev.triage.tools.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code bin/triage bench}: every scenario against this job and its peers, a markdown and JSON
 * report, PNG plots. Exits 1 when this job misses a target.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description =
                "Benchmark this job against Flink Async I/O, Flink SQL ML_PREDICT and a Kafka"
                        + " worker pool on the local simulator; writes report.md, report.json and"
                        + " PNG plots.")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--quick", description = "Small sizes, this job and the floor only (CI).")
    boolean quick;

    @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092")
    String bootstrap;

    @Option(names = "--settings", required = true, description = "The job settings file.")
    Path settings;

    @Option(names = "--log-config", required = true, description = "log4j2 file for children.")
    String logConfig;

    @Option(
            names = "--sql-classpath",
            defaultValue = "",
            description = "flink-model-openai jar for the ML_PREDICT pipeline (skipped if empty).")
    String sqlClasspath;

    @Option(
            names = "--pipeline-jvm-option",
            description =
                    "An extra JVM option for every pipeline JVM, e.g. a profiler:"
                            + " -XX:StartFlightRecording=filename=run.jfr (repeatable).")
    List<String> pipelineJvmOptions = new ArrayList<>();

    @Option(names = "--out", defaultValue = "target/bench")
    Path out;

    @Option(
            names = "--scenarios",
            split = ",",
            description =
                    "Only these scenarios (latency-bound, cpu-bound, rate-limited,"
                            + " hot-session, fault, capacity-sweep).")
    List<String> only;

    @Option(
            names = "--pipelines",
            split = ",",
            description =
                    "Only these pipelines (triage, async-unordered, async-ordered,"
                            + " sql-ml-predict, worker-pool, pass-through).")
    List<String> pipelines;

    @Override
    public Integer call() throws Exception {
        Path logs = out.resolve("logs");
        Files.createDirectories(logs);
        BenchRun.Setup setup =
                new BenchRun.Setup(
                        bootstrap,
                        System.getProperty("java.class.path"),
                        sqlClasspath,
                        logConfig,
                        settings.toAbsolutePath(),
                        logs.toAbsolutePath(),
                        Scenarios.PARALLELISM,
                        pipelineJvmOptions,
                        line -> System.out.println("    " + line));
        Set<Pipeline> allowed =
                pipelines == null
                        ? Set.of(Pipeline.values())
                        : pipelines.stream().map(Pipeline::of).collect(Collectors.toSet());
        List<Scenario> scenarios = new ArrayList<>();
        for (Scenario s : Scenarios.all(quick)) {
            if (only == null || only.contains(s.name())) {
                scenarios.add(s);
            }
        }
        List<RunResult> runs = new ArrayList<>();
        List<String> misses = new ArrayList<>();
        long started = System.currentTimeMillis();
        for (Scenario s : scenarios) {
            System.out.println("==> " + s.name() + ": " + s.title());
            // --pipelines picks from every peer of the scenario, also in a quick run.
            List<Pipeline> peers =
                    pipelines == null
                            ? s.pipelines()
                            : Scenarios.all(false).stream()
                                    .filter(f -> f.name().equals(s.name()))
                                    .findFirst()
                                    .orElseThrow()
                                    .pipelines();
            for (Pipeline p : peers) {
                if (!allowed.contains(p)) {
                    continue;
                }
                if (p == Pipeline.SQL_ML_PREDICT && sqlClasspath.isBlank()) {
                    System.out.println("    skipping ML_PREDICT: no flink-model-openai jar given");
                    continue;
                }
                RunResult r = runOne(setup, s, p, Scenarios.IN_FLIGHT);
                if (r == null) {
                    continue;
                }
                runs.add(r);
                List<String> m = Targets.misses(r, quick);
                misses.addAll(m);
                m.forEach(x -> System.out.println("    MISSED: " + x));
            }
        }
        List<RunResult> sweep = new ArrayList<>();
        if (!quick && (only == null || only.contains("capacity-sweep"))) {
            Scenario latencyBound = Scenarios.all(false).get(0);
            List<Scenario> points = Scenarios.sweep(latencyBound);
            System.out.println(
                    "==> capacity-sweep: latency-bound at in flight "
                            + Arrays.toString(Scenarios.SWEEP));
            for (int i = 0; i < points.size(); i++) {
                for (Pipeline p : points.get(i).pipelines()) {
                    if (allowed.contains(p)) {
                        RunResult r = runOne(setup, points.get(i), p, Scenarios.SWEEP[i]);
                        if (r != null) {
                            sweep.add(r);
                        }
                    }
                }
            }
        }
        List<String> plots = plots(scenarios, runs, sweep);
        String command = "bin/triage bench" + (quick ? " --quick" : "");
        String machine =
                Runtime.getRuntime().availableProcessors()
                        + " cores, Java "
                        + System.getProperty("java.version")
                        + ", "
                        + Instant.now().toString().substring(0, 10)
                        + String.format(
                                ", whole run %.1f min",
                                (System.currentTimeMillis() - started) / 60000.0);
        Files.writeString(
                out.resolve("report.md"),
                BenchReport.markdown(command, machine, scenarios, runs, sweep, misses, plots));
        BenchReport.writeJson(out.resolve("report.json"), runs, sweep, misses);
        System.out.println("Report: " + out.resolve("report.md"));
        if (!misses.isEmpty()) {
            System.out.println("MISSED " + misses.size() + " target(s):");
            misses.forEach(m -> System.out.println("  " + m));
            return 1;
        }
        System.out.println("Every target met.");
        return 0;
    }

    private static RunResult runOne(BenchRun.Setup setup, Scenario s, Pipeline p, int inFlight) {
        System.out.printf("  -> %s (%s), %d in flight%n", p.id(), p.label(), inFlight);
        try {
            RunResult r = new BenchRun(setup, s, p, inFlight).run();
            System.out.printf(
                    "     %,.0f tickets/s, p50 %.0f ms, p99 %.0f ms, %s CPU-s/1k, %.2f calls/ticket,"
                            + " %d 429s, %d dead letters, %d lost, %d repeats, %d out of order%n",
                    r.throughput().ticketsPerSecond(),
                    r.latency().p50Ms(),
                    r.latency().p99Ms(),
                    String.format("%.2f", r.cost().cpuSecondsPer1000()),
                    r.cost().llmCallsPerTicket(),
                    r.cost().rateLimited(),
                    r.correctness().deadLetters(),
                    r.correctness().lost(),
                    r.correctness().duplicates(),
                    r.correctness().orderViolations());
            return r;
        } catch (Exception e) {
            System.out.println("     FAILED: " + e.getMessage());
            return null;
        }
    }

    private List<String> plots(
            List<Scenario> scenarios, List<RunResult> runs, List<RunResult> sweep)
            throws Exception {
        List<String> files = new ArrayList<>();
        if (!sweep.isEmpty()) {
            BenchPlots.throughputVsInFlight(sweep, out.resolve("throughput-vs-in-flight.png"));
            files.add("throughput-vs-in-flight.png");
        }
        for (Scenario s : scenarios) {
            List<RunResult> rs = runs.stream().filter(r -> r.scenario().equals(s.name())).toList();
            if (rs.isEmpty()) {
                continue;
            }
            if (s.name().equals("hot-session") || s.name().equals("latency-bound")) {
                String f = "latency-cdf-" + s.name() + ".png";
                BenchPlots.latencyCdf("Ticket latency, " + s.name(), rs, out.resolve(f));
                files.add(f);
            }
            if (s.outageAtSeconds() >= 0) {
                String f = "throughput-during-" + s.name() + ".png";
                BenchPlots.throughputOverTime(
                        "Results per second, 30-s provider outage",
                        rs,
                        s.outageAtSeconds(),
                        s.outageSeconds(),
                        out.resolve(f));
                files.add(f);
            }
        }
        return files;
    }
}
