package dev.triage.session;

import dev.triage.records.Ticket;

/**
 * A ticket of a session that has not been answered yet: waiting behind the session's current
 * ticket, or in flight. {@code attempts} counts the calls already made for it (kept across
 * restores; the result reports it). {@code retryAt} is set while a retry is scheduled.
 *
 * <p>The ticket's chances with the provider are counted apart: {@code chancesUsed} is the number of
 * failed calls that count against it, {@code chanceMillis} the time those calls took. Calls that
 * failed while the circuit was not closed, probes, retryable 429s and rejections of every request
 * do not count: waiting out an outage never uses up a ticket's chances. {@code sentAt} is when the
 * current call went out.
 */
public record PendingTicket(
        Ticket ticket,
        int turn,
        int attempts,
        long acceptedAt,
        long retryAt,
        int chancesUsed,
        long chanceMillis,
        long sentAt) {

    PendingTicket(Ticket ticket, int turn, long acceptedAt) {
        this(ticket, turn, 0, acceptedAt, 0L, 0, 0L, 0L);
    }

    PendingTicket sent(long now) {
        return new PendingTicket(
                ticket, turn, attempts + 1, acceptedAt, 0L, chancesUsed, chanceMillis, now);
    }

    PendingTicket retryingAt(long time) {
        return new PendingTicket(
                ticket, turn, attempts, acceptedAt, time, chancesUsed, chanceMillis, sentAt);
    }

    /** The failed call counted against the ticket's chances. */
    PendingTicket chanceUsed(long now) {
        return new PendingTicket(
                ticket,
                turn,
                attempts,
                acceptedAt,
                retryAt,
                chancesUsed + 1,
                chanceMillis + Math.max(0, now - sentAt),
                sentAt);
    }
}
