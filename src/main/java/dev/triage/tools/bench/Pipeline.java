package dev.triage.tools.bench;

/**
 * The pipelines {@code bin/triage bench} runs side by side, each in its own JVM, on the same
 * tickets, broker and simulator. The flags say what a pipeline guarantees, so the report can say
 * "cannot" instead of leaving a row out.
 */
public enum Pipeline {
    TRIAGE(
            "this job (session operator, gateway)",
            true,
            true,
            true,
            true,
            "per-session order, exactly-once output, history in the prompt, RPM/TPM limiter,"
                    + " circuit breaker"),
    ASYNC_UNORDERED(
            "Flink AsyncDataStream.unorderedWait",
            false,
            true,
            false,
            false,
            "no per-session order; retries (AsyncRetryStrategies) know only the attempt number;"
                    + " a ticket out of retries fails the job"),
    ASYNC_ORDERED(
            "Flink AsyncDataStream.orderedWait",
            true,
            true,
            false,
            false,
            "order per subtask, so a slow call holds back every session behind it; otherwise as"
                    + " unorderedWait"),
    SQL_ML_PREDICT(
            "Flink SQL ML_PREDICT (flink-model-openai)",
            false,
            true,
            false,
            false,
            "one string in, one out; fixed system prompt; no history; no rate limiter; its OkHttp"
                    + " client allows 5 calls per host per JVM"),
    WORKER_POOL(
            "Kafka consumer + thread pool",
            false,
            false,
            false,
            false,
            "at-least-once (offsets committed after results are written); no order between a"
                    + " session's tickets in flight; a ticket out of retries goes to the DLQ"),
    PASS_THROUGH(
            "Kafka -> parse -> Kafka, no model (floor)",
            true,
            true,
            false,
            false,
            "no LLM call: the cost of the Flink and Kafka path alone");

    private final String label;
    private final boolean sessionOrder;
    private final boolean exactlyOnce;
    private final boolean history;
    private final boolean rateLimiter;
    private final String notes;

    Pipeline(
            String label,
            boolean sessionOrder,
            boolean exactlyOnce,
            boolean history,
            boolean rateLimiter,
            String notes) {
        this.label = label;
        this.sessionOrder = sessionOrder;
        this.exactlyOnce = exactlyOnce;
        this.history = history;
        this.rateLimiter = rateLimiter;
        this.notes = notes;
    }

    /** The name on the command line and in the report: {@code async-unordered}. */
    public String id() {
        return name().toLowerCase().replace('_', '-');
    }

    public static Pipeline of(String id) {
        return valueOf(id.trim().toUpperCase().replace('-', '_'));
    }

    public String label() {
        return label;
    }

    public boolean sessionOrder() {
        return sessionOrder;
    }

    public boolean exactlyOnce() {
        return exactlyOnce;
    }

    public boolean history() {
        return history;
    }

    public boolean rateLimiter() {
        return rateLimiter;
    }

    public String notes() {
        return notes;
    }

    public boolean isFlinkJob() {
        return this != WORKER_POOL;
    }
}
