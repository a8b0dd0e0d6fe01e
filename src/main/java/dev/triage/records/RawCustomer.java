package dev.triage.records;

/**
 * A Kafka record of the compacted customers topic as read, before parsing. A null value is a
 * tombstone: the customer's profile was deleted.
 */
public record RawCustomer(String topic, int partition, long offset, byte[] key, byte[] value) {

    /** The same record as a {@link RawTicket}, for a dead letter about it. */
    public RawTicket asRaw() {
        return new RawTicket(topic, partition, offset, 0L, value);
    }
}
