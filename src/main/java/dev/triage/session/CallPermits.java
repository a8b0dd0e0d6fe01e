package dev.triage.session;

import dev.triage.llm.Endpoint;
import dev.triage.llm.LlmGateway.Route;

import java.util.HashMap;
import java.util.Map;

/**
 * The calls on the wire of one subtask: hands out a {@link CallPermit} per call and counts those
 * not yet released, which the gateway's concurrency limit bounds. Also remembers each session's
 * previous call, so that a ticket's next failure on the same endpoint counts only if the endpoint
 * answered something since (LlmGateway.Route#since). In memory only: after a restore the window
 * starts at the next call, which only makes the gateway more careful. Task thread only.
 */
final class CallPermits {

    private record PreviousCall(Endpoint endpoint, long answersAtSend) {}

    private final Map<String, PreviousCall> previous = new HashMap<>();
    private int inFlight;

    /** Calls sent and not yet released. */
    int inFlight() {
        return inFlight;
    }

    /** Whether one more call fits under {@code limit}. */
    boolean hasRoom(int limit) {
        return inFlight < limit;
    }

    /**
     * A permit for the call of {@code sent} (already counting this attempt) of {@code session},
     * routed by the gateway; {@code sentNanos} is when it goes out (System.nanoTime, for latency).
     */
    CallPermit acquire(String session, PendingTicket sent, Route routed, long sentNanos) {
        PreviousCall last =
                previous.put(session, new PreviousCall(routed.endpoint(), routed.answersAtSend()));
        Route route =
                (last != null && last.endpoint() == routed.endpoint()
                                ? routed.since(last.answersAtSend())
                                : routed)
                        .by(session.hashCode());
        inFlight++;
        return new CallPermit(
                this, session, sent.ticket().ticketId(), sent.attempts(), route, sentNanos);
    }

    /** The session's ticket ended: its next ticket's calls start a new evidence window. */
    void ticketEnded(String session) {
        previous.remove(session);
    }

    /** Called once per permit, by {@link CallPermit#release}. */
    int released() {
        return inFlight--;
    }
}
