package dev.triage.tools.simulator;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * At most so many requests worked on at once; beyond, 503 at once (as Ollama's full queue).
 *
 * @param max requests worked on at once; 0: unlimited
 */
record ConcurrencyLimit(int max, ServerCounters counters) implements Fault {
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
