package dev.triage.tools.bench;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns what a run saw into its {@link RunResult}: the first output of each ticket sent, its
 * latency split by the hot session and the others, throughput over the steady window, the
 * provider's counters before and after.
 */
final class RunSummary {

    /**
     * What the run's load loop did.
     *
     * @param sentAt when each ticket was sent, epoch ms
     * @param start when the first was sent
     * @param end when the loop stopped (all out, the timeout, or the pipeline gone)
     * @param outageEnd when the provider's outage ended; -1: no outage
     */
    record Driven(Map<String, Long> sentAt, long start, long end, long outageEnd) {}

    private final Scenario scenario;
    private final Pipeline pipeline;
    private final int inFlight;

    RunSummary(Scenario scenario, Pipeline pipeline, int inFlight) {
        this.scenario = scenario;
        this.pipeline = pipeline;
        this.inFlight = inFlight;
    }

    /** The first outputs of the tickets sent, counted and split. */
    private static final class Tally {
        int answered;
        int deadLetters;
        final List<Long> all = new ArrayList<>();
        final List<Long> hot = new ArrayList<>();
        final List<Long> others = new ArrayList<>();
        final List<Long> appended = new ArrayList<>();
        long lastBeforeOutageEnd = -1;
    }

    RunResult summarize(
            List<RunStats.Output> outputs,
            Driven driven,
            int count,
            CpuSampler cpu,
            JsonNode before,
            JsonNode after,
            int restarts) {
        Tally t = tally(outputs, driven);
        long[] latencies = sorted(t.all);
        long[] appendTimes = sorted(t.appended);
        double throughput = RunStats.steadyThroughput(appendTimes);
        long requests = after.path("requests").asLong() - before.path("requests").asLong();
        long limited = after.path("rate_limited").asLong() - before.path("rate_limited").asLong();
        int lost = count - t.answered - t.deadLetters;
        double limit = scenario.limitPerSecond();
        int seconds = (int) ((driven.end() - driven.start()) / 1000) + 3;
        long[] others = sorted(t.others);
        return new RunResult(
                scenario.name(),
                pipeline,
                inFlight,
                count,
                (driven.end() - driven.start()) / 1000.0,
                new RunResult.Correctness(
                        lost == 0,
                        t.answered,
                        t.deadLetters,
                        lost,
                        RunStats.duplicates(outputs),
                        RunStats.orderViolations(outputs)),
                new RunResult.Throughput(
                        throughput,
                        limit > 0 ? throughput / limit : Double.NaN,
                        RunStats.perSecond(appendTimes, driven.start(), seconds)),
                new RunResult.Latency(
                        RunStats.percentile(latencies, 50),
                        RunStats.percentile(latencies, 95),
                        RunStats.percentile(latencies, 99),
                        RunStats.percentile(sorted(t.hot), 99),
                        RunStats.percentile(others, 50),
                        RunStats.percentile(others, 99),
                        latencies),
                new RunResult.Cost(
                        cpu.secondsPer1000(RunStats.steadyWindow(appendTimes), throughput),
                        (double) requests / count,
                        requests,
                        limited),
                new RunResult.Recovery(drainSeconds(driven, t), restarts));
    }

    private Tally tally(List<RunStats.Output> outputs, Driven driven) {
        Map<String, RunStats.Output> first = new HashMap<>();
        for (RunStats.Output o : outputs) {
            first.putIfAbsent(o.ticketId(), o);
        }
        // SampleTickets puts the hot share into the first session.
        String hotSession = scenario.hotShare() > 0 ? "m-S-00001" : null;
        Tally t = new Tally();
        for (RunStats.Output o : first.values()) {
            Long sent = driven.sentAt().get(o.ticketId());
            if (sent == null) {
                continue;
            }
            if (o.deadLetter()) {
                t.deadLetters++;
                continue;
            }
            t.answered++;
            t.appended.add(o.appendedAt());
            long latency = o.seenAt() - sent;
            t.all.add(latency);
            if (hotSession != null && hotSession.equals(o.sessionId())) {
                t.hot.add(latency);
            } else {
                t.others.add(latency);
            }
            if (driven.outageEnd() > 0 && sent < driven.outageEnd()) {
                t.lastBeforeOutageEnd = Math.max(t.lastBeforeOutageEnd, o.seenAt());
            }
        }
        return t;
    }

    private static double drainSeconds(Driven driven, Tally t) {
        return driven.outageEnd() > 0 && t.lastBeforeOutageEnd > 0
                ? Math.max(0, t.lastBeforeOutageEnd - driven.outageEnd()) / 1000.0
                : Double.NaN;
    }

    private static long[] sorted(List<Long> values) {
        return RunStats.sorted(values.stream().mapToLong(Long::longValue).toArray());
    }
}
