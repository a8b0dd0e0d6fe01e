package dev.triage.tools.bench;

/**
 * What one pipeline achieved in one scenario, grouped by meaning. Latencies are milliseconds from
 * the ticket's send to the moment a read_committed consumer saw its result; NaN where not measured.
 *
 * @param inFlight calls in flight per subtask (capacity) the pipeline ran with
 * @param tickets tickets sent in the measured part of the run
 * @param wallSeconds from the first ticket sent to the last one out (or the timeout)
 */
record RunResult(
        String scenario,
        Pipeline pipeline,
        int inFlight,
        int tickets,
        double wallSeconds,
        Correctness correctness,
        Throughput throughput,
        Latency latency,
        Cost cost,
        Recovery recovery) {

    /**
     * Whether every ticket came out once and in order.
     *
     * @param finished every ticket came out (as a result or a dead letter) before the timeout
     * @param answered distinct tickets with a result
     * @param deadLetters distinct tickets on the dead-letter topic
     * @param lost tickets with neither
     * @param duplicates output records beyond the first per ticket
     * @param orderViolations results seen after a later turn of their session
     */
    record Correctness(
            boolean finished,
            int answered,
            int deadLetters,
            int lost,
            int duplicates,
            int orderViolations) {}

    /**
     * How fast tickets came out.
     *
     * @param ticketsPerSecond steady throughput (middle 90% of the results)
     * @param fractionOfLimit ticketsPerSecond over the scenario's limit (NaN: no limit)
     * @param perSecond results appended in each second of the run, for the plots
     */
    record Throughput(double ticketsPerSecond, double fractionOfLimit, int[] perSecond) {}

    /**
     * Percentiles of the tickets' latency, overall and for the hot session against the others.
     *
     * @param hotP99Ms p99 latency of the hot session's tickets
     * @param othersP99Ms p99 latency of every other session's tickets
     * @param sortedLatencies every answered ticket's latency, ascending, for the plots
     */
    record Latency(
            double p50Ms,
            double p95Ms,
            double p99Ms,
            double hotP99Ms,
            double othersP50Ms,
            double othersP99Ms,
            long[] sortedLatencies) {}

    /**
     * What the tickets cost: CPU of the pipeline and calls to the provider.
     *
     * @param cpuSecondsPer1000 the pipeline JVM's CPU time over the steady window, per 1,000
     *     tickets
     * @param llmCallsPerTicket requests the provider saw, per ticket
     * @param requests requests the provider saw
     * @param rateLimited 429s the provider sent
     */
    record Cost(
            double cpuSecondsPer1000, double llmCallsPerTicket, long requests, long rateLimited) {

        double rateLimitedShare() {
            return requests == 0 ? 0 : (double) rateLimited / requests;
        }
    }

    /**
     * How the pipeline came back from faults.
     *
     * @param drainSeconds after an outage ends, until the last ticket sent before its end is out
     * @param restarts failovers of a Flink pipeline (from its log), or 0
     */
    record Recovery(double drainSeconds, int restarts) {}
}
