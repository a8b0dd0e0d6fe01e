package dev.triage.records;

import dev.triage.io.Json;

/**
 * A valid support ticket. {@code createdAt} is epoch milliseconds; the source coordinates let a
 * dead letter point at the exact input record. {@code customer} is what the enrichment join knew
 * about the customer when the ticket passed it (null: no customer id, or enrichment off). {@code
 * tenantId} (null: none) scopes the session, the customer and the incident cache ({@link Tenants}).
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
        CustomerContext customer,
        String tenantId) {

    /** A ticket of no tenant, before the enrichment join. */
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
                null,
                null);
    }

    /** The same ticket in {@code tenant}'s scope. */
    public Ticket inTenant(String tenant) {
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
                customer,
                tenant);
    }

    /** The key of the ticket's conversation: the session id, within the tenant if there is one. */
    public String sessionKey() {
        return Tenants.key(tenantId, sessionId);
    }

    /** The key of the ticket's customer (null without one), within the tenant if there is one. */
    public String customerKey() {
        return Tenants.key(tenantId, customerId);
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
                context,
                tenantId);
    }

    /** The ticket as JSON in the input format, used as the payload of late dead letters. */
    public String toJson() {
        var node = Json.object();
        if (tenantId != null) {
            node.put("tenant_id", tenantId);
        }
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
