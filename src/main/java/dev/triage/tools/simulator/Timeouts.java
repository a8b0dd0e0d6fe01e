package dev.triage.tools.simulator;

/** A share of requests held with no answer at all, so that the client's timeout has to fire. */
record Timeouts(double rate, ServerCounters counters) implements Fault {
    @Override
    public Refusal apply(ChatCall call) {
        if (ProviderProfile.chance(rate)) {
            counters.timeouts.incrementAndGet();
            return Refusal.HOLD;
        }
        return null;
    }
}
