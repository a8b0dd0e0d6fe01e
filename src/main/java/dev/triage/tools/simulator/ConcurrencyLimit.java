package dev.triage.tools.simulator;

import io.netty.handler.codec.http.HttpResponseStatus;

/** At most so many requests worked on at once; beyond, 503 at once (as Ollama's full queue). */
final class ConcurrencyLimit implements Fault {
    private final int max;
    private final ServerCounters counters;

    /** {@code max} 0: unlimited. */
    ConcurrencyLimit(int max, ServerCounters counters) {
        this.max = max;
        this.counters = counters;
    }

    @Override
    public Refusal apply(ChatCall call) {
        if (max > 0 && counters.active.get() >= max) {
            counters.busy.incrementAndGet();
            return Refusal.error(
                    HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "server busy, please try again.",
                    "server_error",
                    null);
        }
        return null;
    }
}
