package dev.triage.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Every job setting, declared once: key, type, default and description. Files in {@code jobs/} and
 * {@code key=value} arguments only fill these in.
 */
public final class TriageOptions {

    private TriageOptions() {}

    // ---------------------------------------------------------------- Kafka

    public static final ConfigOption<String> KAFKA_BOOTSTRAP_SERVERS =
            ConfigOptions.key("kafka.bootstrap-servers")
                    .stringType()
                    .defaultValue("localhost:9092")
                    .withDescription(
                            "Kafka bootstrap servers for the ticket source and the sinks.");

    public static final ConfigOption<String> KAFKA_GROUP_ID =
            ConfigOptions.key("kafka.group-id")
                    .stringType()
                    .defaultValue("support-triage")
                    .withDescription(
                            "Consumer group id. Offsets are committed on checkpoints for monitoring"
                                    + " only; Flink's checkpoints hold the offsets it restores from.");

    public static final ConfigOption<String> TICKETS_TOPIC =
            ConfigOptions.key("kafka.topics.tickets")
                    .stringType()
                    .defaultValue("tickets")
                    .withDescription("Input topic with one JSON ticket per record.");

    public static final ConfigOption<String> RESULTS_TOPIC =
            ConfigOptions.key("kafka.topics.results")
                    .stringType()
                    .defaultValue("triage-results")
                    .withDescription("Output topic for triage results, keyed by session_id.");

    public static final ConfigOption<String> DLQ_TOPIC =
            ConfigOptions.key("kafka.topics.dlq")
                    .stringType()
                    .defaultValue("triage-dlq")
                    .withDescription("Dead-letter topic for input that cannot be triaged.");

    public static final ConfigOption<String> STARTING_OFFSETS =
            ConfigOptions.key("kafka.starting-offsets")
                    .stringType()
                    .defaultValue("committed-or-earliest")
                    .withDescription(
                            "Where a job without a checkpoint starts reading: earliest, latest, or"
                                    + " committed-or-earliest.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX =
            ConfigOptions.key("kafka.transactional-id-prefix")
                    .stringType()
                    .defaultValue("support-triage")
                    .withDescription(
                            "Prefix of the exactly-once sinks' transactional ids; unique per job on a"
                                    + " cluster.");

    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT =
            ConfigOptions.key("kafka.transaction-timeout")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(10))
                    .withDescription(
                            "Kafka transaction timeout of the sinks. Must stay below the broker's"
                                    + " transaction.max.timeout.ms (15 min by default) and above the"
                                    + " longest expected checkpoint + restart time.");

    public static final ConfigOption<Map<String, String>> KAFKA_PROPERTIES =
            ConfigOptions.key("kafka.properties")
                    .mapType()
                    .defaultValue(Map.of())
                    .withDescription(
                            "Extra Kafka client properties for source and sinks (security, etc.),"
                                    + " e.g. kafka.properties.security.protocol: SASL_SSL.");

    // ---------------------------------------------------------------- LLM

    public static final ConfigOption<String> LLM_BASE_URL =
            ConfigOptions.key("llm.base-url")
                    .stringType()
                    .defaultValue("http://localhost:8000/v1")
                    .withDescription(
                            "Base URL of an OpenAI-compatible API; /chat/completions is appended.");

    public static final ConfigOption<String> LLM_MODEL =
            ConfigOptions.key("llm.model")
                    .stringType()
                    .defaultValue("local-triage")
                    .withDescription("Model name sent in every request.");

    public static final ConfigOption<String> LLM_API_KEY_ENV =
            ConfigOptions.key("llm.api-key-env")
                    .stringType()
                    .defaultValue("OPENAI_API_KEY")
                    .withDescription(
                            "Name of the environment variable (on the TaskManagers) that holds the API"
                                    + " key. The key itself is never a setting and never logged.");

    public static final ConfigOption<Double> LLM_TEMPERATURE =
            ConfigOptions.key("llm.temperature")
                    .doubleType()
                    .defaultValue(0.0)
                    .withDescription(
                            "Sampling temperature; always sent (servers differ on the default).");

    public static final ConfigOption<Integer> LLM_MAX_OUTPUT_TOKENS =
            ConfigOptions.key("llm.max-output-tokens")
                    .intType()
                    .defaultValue(512)
                    .withDescription("Output token limit per call.");

    public static final ConfigOption<String> LLM_MAX_TOKENS_FIELD =
            ConfigOptions.key("llm.max-tokens-field")
                    .stringType()
                    .defaultValue("max_tokens")
                    .withDescription(
                            "Request field for the output limit: max_tokens (vLLM, Ollama, llama.cpp)"
                                    + " or max_completion_tokens (newer OpenAI models).");

    public static final ConfigOption<Duration> LLM_REQUEST_TIMEOUT =
            ConfigOptions.key("llm.request-timeout")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(60))
                    .withDescription("Timeout of one HTTP attempt.");

    public static final ConfigOption<Duration> LLM_CONNECT_TIMEOUT =
            ConfigOptions.key("llm.connect-timeout")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(5))
                    .withDescription("TCP connect timeout.");

    public static final ConfigOption<Integer> LLM_MAX_ATTEMPTS =
            ConfigOptions.key("llm.max-attempts")
                    .intType()
                    .defaultValue(4)
                    .withDescription(
                            "Attempts per ticket for retryable failures (connection errors, timeouts,"
                                    + " 408/409/429/5xx) before the ticket goes to the dead-letter topic.");

    public static final ConfigOption<Duration> LLM_RETRY_INITIAL_BACKOFF =
            ConfigOptions.key("llm.retry.initial-backoff")
                    .durationType()
                    .defaultValue(Duration.ofMillis(500))
                    .withDescription(
                            "Backoff before the first retry; doubles per attempt, with jitter.");

    public static final ConfigOption<Duration> LLM_RETRY_MAX_BACKOFF =
            ConfigOptions.key("llm.retry.max-backoff")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(8))
                    .withDescription("Upper bound of the retry backoff.");

    public static final ConfigOption<Duration> LLM_RETRY_MAX_ADVISED_WAIT =
            ConfigOptions.key("llm.retry.max-advised-wait")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(60))
                    .withDescription(
                            "Upper bound on a wait the provider advises (retry-after-ms,"
                                    + " Retry-After); the advice is honoured up to this long.");

    public static final ConfigOption<Integer> RATE_LIMIT_RPM =
            ConfigOptions.key("llm.rate-limit.requests-per-minute")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "The provider's request limit for the whole job (0: none). Split evenly"
                                    + " across the subtasks, and split again when the parallelism"
                                    + " changes. Halved on a 429, regained slowly on success.");

    public static final ConfigOption<Integer> RATE_LIMIT_TPM =
            ConfigOptions.key("llm.rate-limit.tokens-per-minute")
                    .intType()
                    .defaultValue(0)
                    .withDescription(
                            "The provider's token limit for the whole job (0: none). A request counts"
                                    + " its estimated prompt tokens (characters / 4) plus"
                                    + " llm.max-output-tokens, as providers count it.");

    // ---------------------------------------------------------------- sessions

    public static final ConfigOption<Integer> MAX_IN_FLIGHT =
            ConfigOptions.key("session.max-in-flight")
                    .intType()
                    .defaultValue(64)
                    .withDescription(
                            "LLM calls in flight per subtask. At the limit the operator backpressures.");

    public static final ConfigOption<Integer> HISTORY_TURNS =
            ConfigOptions.key("session.history-turns")
                    .intType()
                    .defaultValue(6)
                    .withDescription("Earlier turns (ticket + answer) sent with each request.");

    public static final ConfigOption<Integer> HISTORY_CHARS =
            ConfigOptions.key("session.history-chars")
                    .intType()
                    .defaultValue(8000)
                    .withDescription(
                            "Upper bound on the characters of history kept per session; oldest turns"
                                    + " are dropped first.");

    public static final ConfigOption<Integer> DEDUPE_WINDOW =
            ConfigOptions.key("session.dedupe-window")
                    .intType()
                    .defaultValue(100)
                    .withDescription(
                            "How many of a session's most recent ticket ids are remembered. A ticket"
                                    + " whose id is among them (an upstream retry) is dropped and"
                                    + " counted in the duplicateTickets metric, never sent to the"
                                    + " model again.");

    public static final ConfigOption<Duration> SESSION_IDLE_TIMEOUT =
            ConfigOptions.key("session.idle-timeout")
                    .durationType()
                    .defaultValue(Duration.ofHours(1))
                    .withDescription(
                            "A session's state (history, turn counter) expires after this long without"
                                    + " a new ticket or answer; a later ticket starts a new conversation.");

    // ---------------------------------------------------------------- input and prompt

    public static final ConfigOption<Integer> MAX_BODY_BYTES =
            ConfigOptions.key("ticket.max-body-bytes")
                    .intType()
                    .defaultValue(32 * 1024)
                    .withDescription(
                            "Largest accepted ticket body (UTF-8 bytes); larger ones go to the DLQ.");

    public static final ConfigOption<String> SYSTEM_PROMPT =
            ConfigOptions.key("triage.system-prompt")
                    .stringType()
                    .defaultValue(
                            "You are a support triage assistant. Classify the customer's latest"
                                    + " ticket, judge its priority and sentiment, summarize it in one"
                                    + " sentence and draft a short, polite reply. Use the earlier turns"
                                    + " of the conversation as context.")
                    .withDescription(
                            "System prompt. The category list and the answer format are appended.");

    public static final ConfigOption<Map<String, String>> CATEGORIES =
            ConfigOptions.key("triage.categories")
                    .mapType()
                    .defaultValue(
                            Map.of(
                                    "billing", "Invoices, charges, refunds, payment methods.",
                                    "technical", "Errors, bugs, outages, something not working.",
                                    "account",
                                            "Login, password, profile, account access or closure.",
                                    "shipping", "Orders, delivery, tracking, returns of goods.",
                                    "other", "Anything else."))
                    .withDescription(
                            "Category name to description. Answers with any other category go to the"
                                    + " DLQ as llm_invalid_output.");

    // ---------------------------------------------------------------- job

    public static final ConfigOption<String> JOB_NAME =
            ConfigOptions.key("job.name")
                    .stringType()
                    .defaultValue("support-triage")
                    .withDescription("Job name shown in the web UI.");

    public static final ConfigOption<Integer> PARALLELISM =
            ConfigOptions.key("job.parallelism")
                    .intType()
                    .defaultValue(-1)
                    .withDescription("Job parallelism; -1 keeps the cluster's / CLI's default.");

    public static final ConfigOption<Integer> MAX_PARALLELISM =
            ConfigOptions.key("job.max-parallelism")
                    .intType()
                    .defaultValue(128)
                    .withDescription(
                            "Number of key groups: the upper bound for rescaling. Changing it breaks"
                                    + " savepoint compatibility of keyed state.");

    public static final ConfigOption<Duration> FALLBACK_CHECKPOINT_INTERVAL =
            ConfigOptions.key("job.fallback-checkpoint-interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(10))
                    .withDescription(
                            "Checkpoint interval used only when the cluster enables no checkpointing;"
                                    + " exactly-once output is committed on checkpoints.");

    /** All options, for validation of settings files and for documentation. */
    public static final List<ConfigOption<?>> ALL =
            List.of(
                    KAFKA_BOOTSTRAP_SERVERS,
                    KAFKA_GROUP_ID,
                    TICKETS_TOPIC,
                    RESULTS_TOPIC,
                    DLQ_TOPIC,
                    STARTING_OFFSETS,
                    TRANSACTIONAL_ID_PREFIX,
                    TRANSACTION_TIMEOUT,
                    KAFKA_PROPERTIES,
                    LLM_BASE_URL,
                    LLM_MODEL,
                    LLM_API_KEY_ENV,
                    LLM_TEMPERATURE,
                    LLM_MAX_OUTPUT_TOKENS,
                    LLM_MAX_TOKENS_FIELD,
                    LLM_REQUEST_TIMEOUT,
                    LLM_CONNECT_TIMEOUT,
                    LLM_MAX_ATTEMPTS,
                    LLM_RETRY_INITIAL_BACKOFF,
                    LLM_RETRY_MAX_BACKOFF,
                    LLM_RETRY_MAX_ADVISED_WAIT,
                    RATE_LIMIT_RPM,
                    RATE_LIMIT_TPM,
                    MAX_IN_FLIGHT,
                    HISTORY_TURNS,
                    HISTORY_CHARS,
                    DEDUPE_WINDOW,
                    SESSION_IDLE_TIMEOUT,
                    MAX_BODY_BYTES,
                    SYSTEM_PROMPT,
                    CATEGORIES,
                    JOB_NAME,
                    PARALLELISM,
                    MAX_PARALLELISM,
                    FALLBACK_CHECKPOINT_INTERVAL);
}
