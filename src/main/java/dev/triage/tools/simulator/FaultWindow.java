package dev.triage.tools.simulator;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A window of injected faults, for chaos runs ({@code POST /admin/faults}).
 *
 * @param until epoch ms at which the window ends
 * @param seconds how long the window was asked to last
 * @param drop the share of chat requests read and then left with their connection closed
 * @param throttle the share answered 429 with {@code Retry-After: 1}
 * @param latencyMs how much later every chat answer comes
 */
public record FaultWindow(long until, long seconds, double drop, double throttle, long latencyMs) {

    static final FaultWindow NONE = new FaultWindow(0, 0, 0, 0, 0);
    static final long MAX_SECONDS = 7 * 24 * 3600;
    static final long MAX_LATENCY_MS = 600_000;

    public FaultWindow {
        if (seconds < 0) {
            throw new IllegalArgumentException("seconds must be at least 0");
        }
        if (!(drop >= 0 && drop <= 1) || !(throttle >= 0 && throttle <= 1)) {
            throw new IllegalArgumentException("drop and throttle must be between 0 and 1");
        }
        if (drop + throttle > 1) {
            throw new IllegalArgumentException("drop + throttle must be at most 1");
        }
        if (latencyMs < 0 || latencyMs > MAX_LATENCY_MS) {
            throw new IllegalArgumentException(
                    "latency-ms must be between 0 and " + MAX_LATENCY_MS);
        }
    }

    boolean activeAt(long now) {
        return now < until;
    }

    ObjectNode toJson() {
        ObjectNode node = Json.object();
        node.put("seconds", seconds);
        node.put("drop", drop);
        node.put("throttle", throttle);
        node.put("latency_ms", latencyMs);
        node.put("until_epoch_ms", until);
        return node;
    }
}
