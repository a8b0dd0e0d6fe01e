package dev.triage.tools.simulator;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the simulator counts, shared by the faults and the answer path; {@code GET /stats} shows
 * them. Each counter is written by the one place that decides what it counts.
 */
final class ServerCounters {
    final AtomicLong requests = new AtomicLong();
    final AtomicLong completions = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong rateLimited = new AtomicLong();
    final AtomicLong serverErrors = new AtomicLong();
    final AtomicLong busy = new AtomicLong();
    final AtomicLong timeouts = new AtomicLong();
    final AtomicLong malformed = new AtomicLong();
    final AtomicLong truncated = new AtomicLong();
    final AtomicLong refusals = new AtomicLong();
    final AtomicLong outageRefused = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    final AtomicLong throttled = new AtomicLong();
    final AtomicLong permanentErrors = new AtomicLong();
    final AtomicLong tokensCharged = new AtomicLong();

    /** Requests worked on now: answered after their latency, not yet sent. */
    final AtomicLong active = new AtomicLong();

    /** Puts the counters into {@code stats}, in the order {@code GET /stats} has always had. */
    void writeTo(ObjectNode stats) {
        stats.put("requests", requests.get());
        stats.put("completions", completions.get());
        stats.put("errors", errors.get());
        stats.put("rate_limited", rateLimited.get());
        stats.put("server_errors", serverErrors.get());
        stats.put("busy", busy.get());
        stats.put("timeouts", timeouts.get());
        stats.put("malformed", malformed.get());
        stats.put("truncated", truncated.get());
        stats.put("refusals", refusals.get());
        stats.put("outage_refused", outageRefused.get());
        stats.put("dropped", dropped.get());
        stats.put("throttled", throttled.get());
        stats.put("permanent_errors", permanentErrors.get());
        stats.put("tokens_charged", tokensCharged.get());
        stats.put("in_progress", active.get());
    }
}
