package dev.triage.session;

import dev.triage.records.Ticket;

import java.util.List;

/** Sample values of the operator's package-private state types, for serializer tests elsewhere. */
public final class SessionTriageOperatorTestAccess {

    private SessionTriageOperatorTestAccess() {}

    public static List<Object> stateSamples(Ticket ticket) {
        return List.of(
                new PendingTicket(ticket, 3, 1, 10L, 0L, 1, 250L, 10L),
                new WaitingQueue(1, 2),
                new Turn(1, "T-1", "Ticket T-1\n\nhello", "{\"summary\":\"hi\"}"));
    }
}
