package dev.triage.tools.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * What this job must reach in each scenario (issue 6). The full run holds it to the targets; the
 * quick run, being short, allows a fraction of 0.9 where the target is 0.95. Every scenario also
 * requires every ticket out exactly once and every session in order.
 */
final class Targets {

    static final double OTHERS_P99_LIMIT_MS = 4_000;

    private Targets() {}

    /** The targets {@code r} misses, as sentences; empty when it meets them all. */
    static List<String> misses(RunResult r, boolean quick) {
        List<String> misses = new ArrayList<>();
        if (r.pipeline() != Pipeline.TRIAGE) {
            return misses;
        }
        double fraction = quick ? 0.90 : 0.95;
        String where = r.scenario() + ": ";
        if (!r.correctness().finished()) {
            misses.add(
                    where
                            + r.correctness().lost()
                            + " of "
                            + r.tickets()
                            + " tickets never came out");
        }
        if (r.correctness().duplicates() > 0) {
            misses.add(where + r.correctness().duplicates() + " tickets came out more than once");
        }
        if (r.correctness().orderViolations() > 0) {
            misses.add(where + r.correctness().orderViolations() + " results out of session order");
        }
        switch (r.scenario()) {
            case "latency-bound", "rate-limited" -> {
                if (!(r.throughput().fractionOfLimit() >= fraction)) {
                    misses.add(
                            String.format(
                                    "%s%.3f of the limit, below %.2f",
                                    where, r.throughput().fractionOfLimit(), fraction));
                }
                if (r.scenario().equals("rate-limited") && r.cost().rateLimitedShare() >= 0.01) {
                    misses.add(
                            String.format(
                                    "%s%.1f%% of requests got 429 (limit 1%%)",
                                    where, 100 * r.cost().rateLimitedShare()));
                }
            }
            case "hot-session" -> {
                if (!(r.latency().othersP99Ms() < OTHERS_P99_LIMIT_MS)) {
                    misses.add(
                            String.format(
                                    "%sother sessions' p99 %.0f ms, not under %.0f ms",
                                    where, r.latency().othersP99Ms(), OTHERS_P99_LIMIT_MS));
                }
            }
            case "fault" -> {
                if (r.correctness().deadLetters() > 0) {
                    misses.add(
                            where
                                    + r.correctness().deadLetters()
                                    + " tickets dead-lettered by the outage");
                }
            }
            default -> {}
        }
        return misses;
    }
}
