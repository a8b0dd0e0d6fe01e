package dev.triage.tools.simulator;

import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Map;

/**
 * The injected window's share of 429s with {@code Retry-After: 1}: the part of the draw after the
 * drop share, so that drop and throttle never hit the same request.
 */
record InjectedThrottle(ServerCounters counters) implements Fault {
    @Override
    public Refusal apply(ChatCall call) {
        FaultWindow w = call.window();
        if (w.activeAt(call.now()) && call.draw() < w.drop() + w.throttle()) {
            counters.throttled.incrementAndGet();
            counters.rateLimited.incrementAndGet();
            return Refusal.error(
                    HttpResponseStatus.TOO_MANY_REQUESTS,
                    "Rate limit reached for requests.",
                    "requests",
                    "rate_limit_exceeded",
                    Map.of("retry-after", "1"));
        }
        return null;
    }
}
