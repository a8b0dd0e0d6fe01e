package dev.triage.tools.simulator;

/**
 * Requests read in full and then left with their connection closed: the injected window's share, or
 * the profile's drop rate (a proxy or load balancer dropping them).
 */
record DroppedConnections(double profileRate, ServerCounters counters) implements Fault {
    @Override
    public Refusal apply(ChatCall call) {
        FaultWindow w = call.window();
        if ((w.activeAt(call.now()) && call.draw() < w.drop())
                || ProviderProfile.chance(profileRate)) {
            counters.dropped.incrementAndGet();
            return Refusal.DROP;
        }
        return null;
    }
}
