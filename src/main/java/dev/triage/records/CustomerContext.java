package dev.triage.records;

import java.util.List;

/**
 * What the job knows about a ticket's customer: the profile (null when it has not arrived) and
 * their most recent earlier tickets across sessions, newest last.
 */
public record CustomerContext(CustomerProfile profile, List<PastTicket> recent) {

    public CustomerContext {
        recent = recent == null ? List.of() : List.copyOf(recent);
    }

    /** Earlier tickets created at or after {@code since} (epoch ms). */
    public long ticketsSince(long since) {
        return recent.stream().filter(p -> p.createdAt() >= since).count();
    }
}
