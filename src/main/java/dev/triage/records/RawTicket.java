package dev.triage.records;

/**
 * A Kafka record of the tickets topic as read, before any parsing: parsing happens in a Flink
 * operator so that bad input becomes a dead letter instead of a deserialization failure.
 */
public record RawTicket(String topic, int partition, long offset, long timestamp, byte[] value) {}
