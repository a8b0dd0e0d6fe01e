package dev.triage.tools.simulator;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Which faults a chat request meets, in order, and the state they share: the injected window and
 * the outage. Some come before the body is read (a dropped connection, a throttle, an outage: the
 * request is refused whatever it says), the others after (they look at the key or the tokens); the
 * first fault that refuses a request decides.
 */
final class FaultPlan {
    private final AtomicReference<FaultWindow> window = new AtomicReference<>(FaultWindow.NONE);
    private final Outage outage;
    private final RateLimits rateLimits;
    private final List<Fault> beforeReading;
    private final List<Fault> afterReading;

    FaultPlan(ProviderProfile profile, ServerCounters counters) {
        this.outage = new Outage(profile, counters);
        this.rateLimits = new RateLimits(profile, counters);
        this.beforeReading =
                List.of(
                        new DroppedConnections(profile.dropRate(), counters),
                        new InjectedThrottle(counters),
                        outage);
        this.afterReading =
                List.of(
                        new PermanentFailure(profile.permanent(), counters),
                        rateLimits,
                        new ConcurrencyLimit(profile.maxConcurrency(), counters),
                        new ServerErrors(profile.serverErrorRate(), counters),
                        new Timeouts(profile.timeoutRate(), counters));
    }

    /** Replaces any earlier window with one lasting {@code duration} from now. */
    FaultWindow inject(Duration duration, double drop, double throttle, long extraLatencyMs) {
        FaultWindow w =
                new FaultWindow(
                        System.currentTimeMillis() + duration.toMillis(),
                        duration.toSeconds(),
                        drop,
                        throttle,
                        extraLatencyMs);
        window.set(w);
        return w;
    }

    /** The injected window now in force (perhaps over already). */
    FaultWindow window() {
        return window.get();
    }

    /** How much later than usual an answer starts at {@code now}. */
    long extraLatencyMs(long now) {
        FaultWindow w = window.get();
        return w.activeAt(now) ? w.latencyMs() : 0;
    }

    Outage outage() {
        return outage;
    }

    RateLimits rateLimits() {
        return rateLimits;
    }

    /** The refusal of a request whose body is not read yet, or null. */
    Refusal beforeReading(ChatCall call) {
        return first(beforeReading, call);
    }

    /** The refusal of a read request, or null. */
    Refusal afterReading(ChatCall call) {
        return first(afterReading, call);
    }

    private static Refusal first(List<Fault> faults, ChatCall call) {
        for (Fault f : faults) {
            Refusal r = f.apply(call);
            if (r != null) {
                return r;
            }
        }
        return null;
    }
}
