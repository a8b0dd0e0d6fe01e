package dev.triage.records;

/**
 * A customer as the compacted {@code customers} topic describes them (the latest record per
 * customer id). {@code tier} drives the priority rules; the rest goes into the prompt.
 */
public record CustomerProfile(
        String customerId, String name, String tier, String plan, String language) {}
