package dev.triage.records;

/** One earlier ticket of a customer, from any session, with how it was triaged. */
public record PastTicket(
        String ticketId,
        String sessionId,
        String category,
        String priority,
        String sentiment,
        long createdAt) {}
