package dev.triage.tools.simulator;

/** A share of requests held with no answer at all, so that the client's timeout has to fire. */
final class Timeouts implements Fault {
    private final double rate;
    private final ServerCounters counters;

    Timeouts(double rate, ServerCounters counters) {
        this.rate = rate;
        this.counters = counters;
    }

    @Override
    public Refusal apply(ChatCall call) {
        if (ProviderProfile.chance(rate)) {
            counters.timeouts.incrementAndGet();
            return Refusal.HOLD;
        }
        return null;
    }
}
