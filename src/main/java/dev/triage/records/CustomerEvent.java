package dev.triage.records;

/**
 * What the enrichment join learns about a customer: a new profile, a deleted one (a tombstone on
 * the compacted topic), or the outcome of one of their tickets (from the results topic).
 */
public record CustomerEvent(
        String customerId, CustomerProfile profile, boolean deleted, PastTicket outcome) {

    public static CustomerEvent profile(CustomerProfile p) {
        return new CustomerEvent(p.customerId(), p, false, null);
    }

    /** A profile under a key scoped by tenant ({@link Tenants#key}). */
    public static CustomerEvent profile(String key, CustomerProfile p) {
        return new CustomerEvent(key, p, false, null);
    }

    public static CustomerEvent deleted(String customerId) {
        return new CustomerEvent(customerId, null, true, null);
    }

    public static CustomerEvent outcome(String customerId, PastTicket t) {
        return new CustomerEvent(customerId, null, false, t);
    }
}
