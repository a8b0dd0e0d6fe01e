package dev.triage.session;

import dev.triage.llm.Endpoint;
import dev.triage.llm.LlmGateway.Route;

/**
 * One call on the wire: the session, the ticket and attempt it was made for, its route and when it
 * went out. Released exactly once, when its completion reaches the task thread; a second release is
 * a no-op, so the in-flight count cannot drift.
 */
final class CallPermit {

    private final CallPermits owner;
    private final String session;
    private final String ticketId;
    private final int attempt;
    private final Route route;
    private final long sentNanos;
    private boolean released;

    CallPermit(
            CallPermits owner,
            String session,
            String ticketId,
            int attempt,
            Route route,
            long sentNanos) {
        this.owner = owner;
        this.session = session;
        this.ticketId = ticketId;
        this.attempt = attempt;
        this.route = route;
        this.sentNanos = sentNanos;
    }

    String session() {
        return session;
    }

    Route route() {
        return route;
    }

    Endpoint endpoint() {
        return route.endpoint();
    }

    /** Milliseconds since the call went out, at {@code nowNanos} (System.nanoTime). */
    long elapsedMillis(long nowNanos) {
        return (nowNanos - sentNanos) / 1_000_000;
    }

    /**
     * Gives the call's place back. Returns the calls that were in flight counting this one (what
     * the gateway's adaptive limit judges a success by), or 0 when it was released before.
     */
    int release() {
        if (released) {
            return 0;
        }
        released = true;
        return owner.released();
    }

    /**
     * Whether the completion of this call no longer concerns the session's ticket: the ticket ended
     * (answered, dead-lettered, expired) or was sent again since (a restore re-sends it).
     */
    boolean isStale(PendingTicket current) {
        return current == null
                || !current.ticket().ticketId().equals(ticketId)
                || current.attempts() != attempt;
    }

    @Override
    public String toString() {
        return "call of ticket " + ticketId + " (attempt " + attempt + ") of session " + session;
    }
}
