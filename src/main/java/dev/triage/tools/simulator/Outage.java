package dev.triage.tools.simulator;

import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.concurrent.atomic.AtomicLong;

/**
 * An outage window: every request gets the profile's outage status while it lasts. Remembers the
 * first answer after it ended, for the recovery time.
 */
final class Outage implements Fault {
    private final int status;
    private final ServerCounters counters;
    private final AtomicLong start = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong end = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong firstCompletionAfter = new AtomicLong();

    /** The profile's outage, if it has one ({@code afterMs} at least 0). */
    Outage(ProviderProfile profile, ServerCounters counters) {
        this.status = profile.outageStatus();
        this.counters = counters;
        if (profile.outageAfterMs() >= 0) {
            long at = System.currentTimeMillis() + profile.outageAfterMs();
            start.set(at);
            end.set(at + profile.outageMs());
        }
    }

    /** Starts an outage now, lasting {@code millis}. */
    void startNow(long millis) {
        long now = System.currentTimeMillis();
        firstCompletionAfter.set(0);
        end.set(now + millis);
        start.set(now);
    }

    @Override
    public Refusal apply(ChatCall call) {
        if (call.now() >= start.get() && call.now() < end.get()) {
            counters.outageRefused.incrementAndGet();
            return Refusal.error(
                    HttpResponseStatus.valueOf(status),
                    "The service is temporarily unavailable.",
                    "server_error",
                    null);
        }
        return null;
    }

    /** An answer went out at {@code t} (epoch ms). */
    void answered(long t) {
        if (t >= end.get()) {
            firstCompletionAfter.compareAndSet(0, t);
        }
    }

    /** When the last outage ended (epoch ms), or 0 while one lasts or none has happened. */
    long endedAt() {
        long e = end.get();
        return e <= System.currentTimeMillis() ? e : 0;
    }

    /** Milliseconds from the end of the last outage to the first answer after it; -1: none yet. */
    long recoveryMillis() {
        long first = firstCompletionAfter.get();
        long e = endedAt();
        return first == 0 || e == 0 ? -1 : first - e;
    }
}
