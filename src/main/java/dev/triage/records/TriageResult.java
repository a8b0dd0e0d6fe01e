package dev.triage.records;

/** One triaged ticket, as written to the results topic (see {@link TriageResultSerializer}). */
public record TriageResult(
        String ticketId,
        String sessionId,
        String customerId,
        int turn,
        String category,
        String priority,
        String sentiment,
        String summary,
        String draftReply,
        double confidence,
        String model,
        int attempts,
        int promptTokens,
        int completionTokens,
        long createdAt,
        long triagedAt,
        long latencyMs,
        boolean cached) {}
