package dev.triage.records;

/**
 * A valid support ticket. {@code createdAt} is epoch milliseconds; the source coordinates let a
 * dead letter point at the exact input record.
 */
public record Ticket(
        String ticketId,
        String sessionId,
        String customerId,
        String channel,
        String subject,
        String body,
        long createdAt,
        String sourceTopic,
        int sourcePartition,
        long sourceOffset) {

    /** The ticket as JSON in the input format, used as the payload of late dead letters. */
    public String toJson() {
        var node = Json.object();
        node.put("ticket_id", ticketId);
        node.put("session_id", sessionId);
        if (customerId != null) {
            node.put("customer_id", customerId);
        }
        if (channel != null) {
            node.put("channel", channel);
        }
        if (subject != null) {
            node.put("subject", subject);
        }
        node.put("body", body);
        node.put("created_at", Json.isoInstant(createdAt));
        return node.toString();
    }
}
