package dev.triage.tools.bench;

/**
 * What one pipeline achieved in one scenario. Latencies are milliseconds from the ticket's send to
 * the moment a read_committed consumer saw its result; NaN where not measured.
 *
 * @param inFlight calls in flight per subtask (capacity) the pipeline ran with
 * @param finished every ticket came out (as a result or a dead letter) before the timeout
 * @param answered distinct tickets with a result
 * @param deadLetters distinct tickets on the dead-letter topic
 * @param lost tickets with neither
 * @param duplicates output records beyond the first per ticket
 * @param orderViolations results seen after a later turn of their session
 * @param ticketsPerSecond steady throughput (middle 90% of the results)
 * @param fractionOfLimit ticketsPerSecond over the scenario's limit (NaN: no limit)
 * @param cpuSecondsPer1000 the pipeline JVM's CPU time over the same window, per 1,000 tickets
 * @param llmCallsPerTicket requests the provider saw, per ticket
 * @param rateLimited 429s the provider sent
 * @param requests requests the provider saw
 * @param hotP99Ms p99 latency of the hot session's tickets
 * @param othersP99Ms p99 latency of every other session's tickets
 * @param drainSeconds after an outage ends, until the last ticket sent before its end is out
 * @param restarts failovers of a Flink pipeline (from its log), or 0
 */
record RunResult(
        String scenario,
        Pipeline pipeline,
        int inFlight,
        int tickets,
        boolean finished,
        double wallSeconds,
        int answered,
        int deadLetters,
        int lost,
        int duplicates,
        int orderViolations,
        double ticketsPerSecond,
        double fractionOfLimit,
        double p50Ms,
        double p95Ms,
        double p99Ms,
        double cpuSecondsPer1000,
        double llmCallsPerTicket,
        long requests,
        long rateLimited,
        double hotP99Ms,
        double othersP50Ms,
        double othersP99Ms,
        double drainSeconds,
        int restarts,
        long[] sortedLatencies,
        int[] perSecond) {

    double rateLimitedShare() {
        return requests == 0 ? 0 : (double) rateLimited / requests;
    }
}
