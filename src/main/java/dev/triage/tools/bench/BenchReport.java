package dev.triage.tools.bench;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Writes {@code report.md} and {@code report.json} from the runs of one bench command. */
final class BenchReport {

    private BenchReport() {}

    static String markdown(
            String command,
            String machine,
            List<Scenario> scenarios,
            List<RunResult> runs,
            List<RunResult> sweep,
            List<String> misses,
            List<String> plots) {
        StringBuilder md = new StringBuilder();
        md.append("# Benchmark report\n\n");
        md.append("Command: `").append(command).append("`  \n");
        md.append("Machine: ").append(machine).append("\n\n");
        md.append(
                "Every pipeline ran in its own JVM (Flink pipelines on a local MiniCluster at"
                        + " parallelism 2, RocksDB, a checkpoint every 2 s, exactly-once Kafka"
                        + " sinks), against the same Kafka broker, the same simulator settings and"
                        + " the same tickets. Tickets/s: the middle 90% of the results by broker"
                        + " append time. Latency: from sending a ticket to a read_committed"
                        + " consumer seeing its result, so it includes the wait for the next"
                        + " checkpoint (and, for a backlog, the queue). CPU: the pipeline JVM's"
                        + " CPU time over the same window, JIT compiler threads included; the"
                        + " broker and the simulator are not counted.\n\n");
        md.append("## Targets (this job)\n\n");
        if (misses.isEmpty()) {
            md.append("All met.\n\n");
        } else {
            for (String m : misses) {
                md.append("- MISSED: ").append(m).append('\n');
            }
            md.append('\n');
        }
        for (Scenario s : scenarios) {
            List<RunResult> rs = runs.stream().filter(r -> r.scenario().equals(s.name())).toList();
            if (rs.isEmpty()) {
                continue;
            }
            md.append("## ").append(s.name()).append("\n\n").append(s.title()).append(".");
            if (s.limitPerSecond() > 0) {
                md.append(
                        String.format(Locale.ROOT, " Limit: %,.0f tickets/s.", s.limitPerSecond()));
            }
            md.append("\n\n");
            table(md, s, rs);
        }
        if (!sweep.isEmpty()) {
            md.append("## capacity-sweep\n\n");
            md.append(
                    "Latency-bound at several calls-in-flight settings (limit: Little's law).\n\n");
            md.append("| pipeline | in flight | limit/s | tickets/s | of limit |\n");
            md.append("|---|---|---|---|---|\n");
            for (RunResult r : sweep) {
                md.append(
                        String.format(
                                Locale.ROOT,
                                "| %s | %d | %,.0f | %,.0f | %.3f |%n",
                                r.pipeline().label(),
                                r.inFlight(),
                                Scenarios.littlesLaw(r.inFlight()),
                                r.throughput().ticketsPerSecond(),
                                r.throughput().fractionOfLimit()));
            }
            md.append('\n');
        }
        md.append("## What each pipeline guarantees\n\n");
        md.append(
                "| pipeline | per-session order | exactly-once output | history in prompt |"
                        + " rate limiter | notes |\n");
        md.append("|---|---|---|---|---|---|\n");
        for (Pipeline p : Pipeline.values()) {
            md.append("| ")
                    .append(p.label())
                    .append(" | ")
                    .append(yes(p.sessionOrder()))
                    .append(" | ")
                    .append(yes(p.exactlyOnce()))
                    .append(" | ")
                    .append(yes(p.history()))
                    .append(" | ")
                    .append(yes(p.rateLimiter()))
                    .append(" | ")
                    .append(p.notes())
                    .append(" |\n");
        }
        md.append('\n');
        if (!plots.isEmpty()) {
            md.append("## Plots\n\n");
            for (String png : plots) {
                md.append("![").append(png).append("](").append(png).append(")\n\n");
            }
        }
        return md.toString();
    }

    private static void table(StringBuilder md, Scenario s, List<RunResult> rs) {
        boolean hot = s.hotShare() > 0;
        boolean fault = s.outageAtSeconds() >= 0;
        RunResult ours =
                rs.stream().filter(r -> r.pipeline() == Pipeline.TRIAGE).findFirst().orElse(null);
        md.append("| pipeline | tickets | tickets/s | ");
        if (s.limitPerSecond() > 0) {
            md.append("of limit | ");
        }
        md.append("this job ÷ it | p50 / p95 / p99 ms | ");
        if (hot) {
            md.append("hot session p99 ms | other sessions p50 / p99 ms | ");
        }
        if (fault) {
            md.append("drain s | ");
        }
        md.append(
                "CPU-s per 1,000 | LLM calls per ticket | 429s | dead letters | lost | repeats |"
                        + " out of session order | failovers |\n");
        int columns = 13 + (s.limitPerSecond() > 0 ? 1 : 0) + (hot ? 2 : 0) + (fault ? 1 : 0);
        md.append("|---".repeat(columns)).append("|\n");
        for (RunResult r : rs) {
            md.append("| ").append(r.pipeline().label());
            md.append(" | ").append(String.format(Locale.ROOT, "%,d", r.tickets()));
            md.append(" | ").append(num(r.throughput().ticketsPerSecond(), "%,.0f"));
            if (s.limitPerSecond() > 0) {
                md.append(" | ").append(num(r.throughput().fractionOfLimit(), "%.3f"));
            }
            md.append(" | ")
                    .append(
                            ours == null || r == ours
                                    ? "–"
                                    : num(
                                            ours.throughput().ticketsPerSecond()
                                                    / r.throughput().ticketsPerSecond(),
                                            "%.2f×"));
            md.append(" | ")
                    .append(num(r.latency().p50Ms(), "%,.0f"))
                    .append(" / ")
                    .append(num(r.latency().p95Ms(), "%,.0f"))
                    .append(" / ")
                    .append(num(r.latency().p99Ms(), "%,.0f"));
            if (hot) {
                md.append(" | ").append(num(r.latency().hotP99Ms(), "%,.0f"));
                md.append(" | ")
                        .append(num(r.latency().othersP50Ms(), "%,.0f"))
                        .append(" / ")
                        .append(num(r.latency().othersP99Ms(), "%,.0f"));
            }
            if (fault) {
                md.append(" | ").append(num(r.recovery().drainSeconds(), "%.1f"));
            }
            md.append(" | ").append(num(r.cost().cpuSecondsPer1000(), "%.2f"));
            md.append(" | ").append(num(r.cost().llmCallsPerTicket(), "%.2f"));
            md.append(" | ")
                    .append(
                            String.format(
                                    Locale.ROOT,
                                    "%,d (%.1f%%)",
                                    r.cost().rateLimited(),
                                    100 * r.cost().rateLimitedShare()));
            md.append(" | ").append(r.correctness().deadLetters());
            md.append(" | ")
                    .append(
                            r.correctness().finished()
                                    ? "0"
                                    : r.correctness().lost()
                                            + " (unfinished after "
                                            + Math.round(r.wallSeconds())
                                            + " s)");
            md.append(" | ").append(r.correctness().duplicates());
            md.append(" | ")
                    .append(
                            r.pipeline().sessionOrder() || r.correctness().orderViolations() > 0
                                    ? r.correctness().orderViolations()
                                    : "0");
            md.append(" | ")
                    .append(
                            r.pipeline().isFlinkJob()
                                    ? String.valueOf(r.recovery().restarts())
                                    : "n/a");
            md.append(" |\n");
        }
        md.append('\n');
    }

    static void writeJson(
            Path file, List<RunResult> runs, List<RunResult> sweep, List<String> misses)
            throws IOException {
        ObjectNode root = Json.object();
        ArrayNode list = root.putArray("runs");
        for (RunResult r : runs) {
            list.add(json(r));
        }
        ArrayNode s = root.putArray("capacity_sweep");
        for (RunResult r : sweep) {
            s.add(json(r));
        }
        ArrayNode m = root.putArray("missed_targets");
        misses.forEach(m::add);
        Files.writeString(
                file, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    }

    private static ObjectNode json(RunResult r) {
        ObjectNode o = Json.object();
        o.put("scenario", r.scenario());
        o.put("pipeline", r.pipeline().id());
        o.put("in_flight", r.inFlight());
        o.put("tickets", r.tickets());
        o.put("finished", r.correctness().finished());
        o.put("wall_seconds", r.wallSeconds());
        o.put("answered", r.correctness().answered());
        o.put("dead_letters", r.correctness().deadLetters());
        o.put("lost", r.correctness().lost());
        o.put("duplicates", r.correctness().duplicates());
        o.put("order_violations", r.correctness().orderViolations());
        o.put("tickets_per_second", r.throughput().ticketsPerSecond());
        o.put("fraction_of_limit", r.throughput().fractionOfLimit());
        o.put("p50_ms", r.latency().p50Ms());
        o.put("p95_ms", r.latency().p95Ms());
        o.put("p99_ms", r.latency().p99Ms());
        o.put("cpu_seconds_per_1000", r.cost().cpuSecondsPer1000());
        o.put("llm_calls_per_ticket", r.cost().llmCallsPerTicket());
        o.put("requests", r.cost().requests());
        o.put("rate_limited", r.cost().rateLimited());
        o.put("hot_p99_ms", r.latency().hotP99Ms());
        o.put("others_p50_ms", r.latency().othersP50Ms());
        o.put("others_p99_ms", r.latency().othersP99Ms());
        o.put("drain_seconds", r.recovery().drainSeconds());
        o.put("failovers", r.recovery().restarts());
        return o;
    }

    private static String yes(boolean b) {
        return b ? "yes" : "**no**";
    }

    private static String num(double v, String format) {
        return Double.isNaN(v) || Double.isInfinite(v)
                ? "–"
                : String.format(Locale.ROOT, format, v);
    }
}
