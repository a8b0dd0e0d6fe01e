package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.llm.Endpoint;
import dev.triage.llm.LlmGateway.Route;
import dev.triage.records.Ticket;

import org.junit.jupiter.api.Test;

/** Call permits: counted while out, released exactly once, stale after the ticket moved on. */
class CallPermitTest {

    private final CallPermits permits = new CallPermits();

    private static PendingTicket sent(String id, int attempts) {
        PendingTicket p = new PendingTicket(ticket(id), 1, 0L);
        for (int i = 0; i < attempts; i++) {
            p = p.sent(10L * i);
        }
        return p;
    }

    private static Ticket ticket(String id) {
        return SessionOperatorTestBase.ticket("S-1", id, "hello");
    }

    private static Route route(Endpoint e, long answers) {
        return new Route(e, 0, false, 1, answers, answers, 0);
    }

    @Test
    void permitsAreCountedUntilReleasedAndReleasedOnce() {
        CallPermit a = permits.acquire("S-1", sent("T-1", 1), route(Endpoint.PRIMARY, 0), 0);
        CallPermit b = permits.acquire("S-2", sent("T-2", 1), route(Endpoint.PRIMARY, 0), 0);
        assertThat(permits.inFlight()).isEqualTo(2);
        assertThat(permits.hasRoom(2)).isFalse();
        assertThat(permits.hasRoom(3)).isTrue();

        assertThat(a.release()).as("in flight counting this one").isEqualTo(2);
        assertThat(a.release()).as("a second release is a no-op").isZero();
        assertThat(permits.inFlight()).isEqualTo(1);
        assertThat(b.release()).isEqualTo(1);
        assertThat(permits.inFlight()).isZero();
    }

    @Test
    void aCompletionIsStaleOnceTheTicketEndedOrWasSentAgain() {
        PendingTicket first = sent("T-1", 1);
        CallPermit call = permits.acquire("S-1", first, route(Endpoint.PRIMARY, 0), 0);
        assertThat(call.isStale(first)).isFalse();
        assertThat(call.isStale(first.retryingAt(500))).as("waiting for its retry").isFalse();
        assertThat(call.isStale(null)).as("ended").isTrue();
        assertThat(call.isStale(first.sent(20))).as("sent again after a restore").isTrue();
        assertThat(call.isStale(sent("T-2", 1))).as("the next ticket").isTrue();
    }

    @Test
    void theNextCallOfATicketToTheSameEndpointCountsAnswersSinceThePreviousOne() {
        var first = permits.acquire("S-1", sent("T-1", 1), route(Endpoint.PRIMARY, 5), 0);
        assertThat(first.route().evidenceFrom()).isEqualTo(5);
        assertThat(first.route().caller()).isEqualTo("S-1".hashCode());
        first.release();

        var second = permits.acquire("S-1", sent("T-1", 2), route(Endpoint.PRIMARY, 9), 0);
        assertThat(second.route().evidenceFrom()).as("since the previous call").isEqualTo(5);
        second.release();

        var other = permits.acquire("S-1", sent("T-1", 3), route(Endpoint.FALLBACK, 3), 0);
        assertThat(other.route().evidenceFrom()).as("another endpoint").isEqualTo(3);
        other.release();

        permits.ticketEnded("S-1");
        var next = permits.acquire("S-1", sent("T-2", 1), route(Endpoint.FALLBACK, 8), 0);
        assertThat(next.route().evidenceFrom()).as("a new ticket, a new window").isEqualTo(8);
    }

    @Test
    void latencyIsMeasuredFromTheSend() {
        CallPermit call =
                permits.acquire("S-1", sent("T-1", 1), route(Endpoint.PRIMARY, 0), 1_000_000);
        assertThat(call.elapsedMillis(251_000_000)).isEqualTo(250);
        assertThat(call.endpoint()).isEqualTo(Endpoint.PRIMARY);
        assertThat(call.session()).isEqualTo("S-1");
    }
}
