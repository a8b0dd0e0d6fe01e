package dev.triage.session;

import dev.triage.records.Ticket;

/**
 * A ticket of a session that has not been answered yet: waiting behind the session's current
 * ticket, or in flight. {@code attempts} counts the calls already made for it (kept across
 * restores, so a retry budget never resets); {@code retryAt} is set while a retry is scheduled.
 */
public record PendingTicket(Ticket ticket, int turn, int attempts, long acceptedAt, long retryAt) {

    PendingTicket sent() {
        return new PendingTicket(ticket, turn, attempts + 1, acceptedAt, 0L);
    }

    PendingTicket retryingAt(long time) {
        return new PendingTicket(ticket, turn, attempts, acceptedAt, time);
    }
}
