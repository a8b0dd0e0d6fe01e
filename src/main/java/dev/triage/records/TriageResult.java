package dev.triage.records;

import java.util.List;

/**
 * One triaged ticket, as written to the results topic (see {@link TriageResultSerializer}). {@code
 * summary} and {@code draftReply} are model output: untrusted text. {@code draftReplyFlags} says
 * what in the draft reply needs a person's review ({@link DraftReplyFlags}). {@code tenantId} is
 * the ticket's tenant (null: none), so that the result read back as history stays in it.
 */
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
        boolean cached,
        List<String> draftReplyFlags,
        String tenantId) {

    public TriageResult {
        draftReplyFlags = draftReplyFlags == null ? List.of() : List.copyOf(draftReplyFlags);
    }

    /**
     * A result whose flags are computed from the draft reply alone: any contact detail in it is
     * flagged, since the ticket's own text is not at hand.
     */
    public TriageResult(
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
            boolean cached) {
        this(
                ticketId,
                sessionId,
                customerId,
                turn,
                category,
                priority,
                sentiment,
                summary,
                draftReply,
                confidence,
                model,
                attempts,
                promptTokens,
                completionTokens,
                createdAt,
                triagedAt,
                latencyMs,
                cached,
                DraftReplyFlags.of(draftReply, (String) null),
                null);
    }
}
