package dev.triage.records;

/**
 * A valid support ticket. {@code createdAt} is epoch milliseconds; the source coordinates let a
 * dead letter point at the exact input record. {@code customer} is what the enrichment join knew
 * about the customer when the ticket passed it (null: no customer id, or enrichment off).
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
        long sourceOffset,
        CustomerContext customer) {

    public Ticket(
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
        this(
                ticketId,
                sessionId,
                customerId,
                channel,
                subject,
                body,
                createdAt,
                sourceTopic,
                sourcePartition,
                sourceOffset,
                null);
    }

    /** The same ticket with the customer's context attached. */
    public Ticket withCustomer(CustomerContext context) {
        return new Ticket(
                ticketId,
                sessionId,
                customerId,
                channel,
                subject,
                body,
                createdAt,
                sourceTopic,
                sourcePartition,
                sourceOffset,
                context);
    }

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
