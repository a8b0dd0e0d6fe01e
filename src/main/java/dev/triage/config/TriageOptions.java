package dev.triage.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Every job setting, declared once: key, type, default and description. Files in {@code jobs/} and
 * {@code key=value} arguments only fill these in.
 *
 * <p>Over 300 lines on purpose: it is the one list of settings (declarations and their descriptions
 * only; {@code OptionsDoc} generates the settings table from it), and splitting it by topic would
 * scatter that list.
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

    public static final ConfigOption<StartingOffsets> STARTING_OFFSETS =
            ConfigOptions.key("kafka.starting-offsets")
                    .enumType(StartingOffsets.class)
                    .defaultValue(StartingOffsets.COMMITTED_OR_EARLIEST)
                    .withDescription(
                            "Where a job without a checkpoint starts reading: "
                                    + StartingOffsets.choices()
                                    + ".");

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
                    .defaultValue(Duration.ofMinutes(15))
                    .withDescription(
                            "Kafka transaction timeout of the sinks, and so the longest a failed job"
                                    + " may stay down before a restore loses its last checkpoint's"
                                    + " results, and the longest a provider outage past"
                                    + " session.max-backlog is ridden out without a failover (the"
                                    + " input, and with it every checkpoint, waits meanwhile). At"
                                    + " most the broker's transaction.max.timeout.ms (15 min by"
                                    + " default; checked at submission).");

    public static final ConfigOption<String> CUSTOMERS_TOPIC =
            ConfigOptions.key("kafka.topics.customers")
                    .stringType()
                    .defaultValue("customers")
                    .withDescription(
                            "Compacted topic of customer profiles (key: customer_id; value: JSON with"
                                    + " customer_id, name, tier, plan, language; null value: delete),"
                                    + " read from the beginning. Used when customers.enabled.");

    public static final ConfigOption<Map<String, String>> KAFKA_PROPERTIES =
            ConfigOptions.key("kafka.properties")
                    .mapType()
                    .defaultValue(Map.of())
                    .withDescription(
                            "Extra Kafka client properties for source and sinks (security, etc.),"
                                    + " e.g. kafka.properties.security.protocol: SASL_SSL.");

    // ---------------------------------------------------------------- LLM endpoints

    /** The endpoint every ticket goes to first. */
    public static final EndpointOptions PRIMARY =
            new EndpointOptions(
                    "llm.", "http://localhost:8000/v1", "local-triage", "OPENAI_API_KEY", "");

    /**
     * An optional second endpoint: used while the primary's circuit is open, and for a ticket the
     * primary rejects. Off while {@code llm.fallback.base-url} is empty.
     */
    public static final EndpointOptions FALLBACK =
            new EndpointOptions("llm.fallback.", "", "", "", "Fallback endpoint: ");

    public static final ConfigOption<String> LLM_BASE_URL = PRIMARY.baseUrl;
    public static final ConfigOption<String> LLM_MODEL = PRIMARY.model;

    // ---------------------------------------------------------------- LLM calls

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
                    .withDescription(
                            "Output token limit per call. Providers count it against the token"
                                    + " limit whatever the answer's real length.");

    public static final ConfigOption<Duration> LLM_REQUEST_TIMEOUT =
            ConfigOptions.key("llm.request-timeout")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(60))
                    .withDescription(
                            "Timeout of one HTTP attempt. A timed-out attempt is retried like a 5xx.");

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
                            "Failed calls per ticket, counted only while the provider is otherwise"
                                    + " healthy (connection errors, timeouts, 5xx with the circuit"
                                    + " closed while the endpoint answered another call), before the"
                                    + " ticket goes to the dead-letter topic as llm_unavailable. While"
                                    + " the endpoint fails other sessions' calls too, more are needed:"
                                    + " as many as make such a run of failures a one-in-a-million"
                                    + " chance at that failure rate (12 at 30 %). Calls"
                                    + " that fail while the circuit is open or half-open, or while"
                                    + " nothing else is answered (an outage too sparse for the"
                                    + " breaker), probes, retryable 429s and rejections of every"
                                    + " request (401/403/404, exhausted quota) do not count: the ticket"
                                    + " waits for the provider. The result's attempts field reports"
                                    + " every call.");

    public static final ConfigOption<Duration> LLM_TICKET_DEADLINE =
            ConfigOptions.key("llm.ticket-deadline")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(15))
                    .withDescription(
                            "The time the provider may spend failing one ticket: the sum of the"
                                    + " durations of its counted failed calls (see llm.max-attempts)."
                                    + " Beyond it the ticket goes to the dead-letter topic"
                                    + " (llm_unavailable). Time spent queued, waiting out an outage or"
                                    + " a 429, or while the job was down never counts.");

    public static final ConfigOption<Duration> LLM_RETRY_INITIAL_BACKOFF =
            ConfigOptions.key("llm.retry.initial-backoff")
                    .durationType()
                    .defaultValue(Duration.ofMillis(500))
                    .withDescription(
                            "Backoff before the first retry; doubles per attempt, minus up to 25%"
                                    + " jitter.");

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

    public static final ConfigOption<Boolean> LLM_REPAIR_INVALID_ANSWERS =
            ConfigOptions.key("llm.repair-invalid-answers")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription(
                            "Give a malformed or truncated answer (broken JSON, finish_reason"
                                    + " length, null content, a refusal, a value outside the"
                                    + " schema) one repair attempt: the model sees its answer and"
                                    + " what is wrong with it. A second bad answer goes to the"
                                    + " dead-letter topic with the raw answer.");

    public static final ConfigOption<Double> BREAKER_FAILURE_RATE =
            ConfigOptions.key("llm.circuit-breaker.failure-rate")
                    .doubleType()
                    .defaultValue(0.5)
                    .withDescription(
                            "The circuit of an endpoint opens when at least this share of its last"
                                    + " llm.circuit-breaker.window calls failed with a 5xx, a timeout"
                                    + " or a connection error (429s are the rate limiter's business)."
                                    + " While open, no calls go out and the input is backpressured.");

    public static final ConfigOption<Integer> BREAKER_WINDOW =
            ConfigOptions.key("llm.circuit-breaker.window")
                    .intType()
                    .defaultValue(20)
                    .withDescription("How many recent calls the failure rate is computed over.");

    public static final ConfigOption<Duration> BREAKER_OPEN_FOR =
            ConfigOptions.key("llm.circuit-breaker.open-for")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(1))
                    .withDescription(
                            "How long an open circuit waits before one probe call; doubled after"
                                    + " each failed probe, up to llm.circuit-breaker.max-open-for.");

    public static final ConfigOption<Duration> BREAKER_MAX_OPEN_FOR =
            ConfigOptions.key("llm.circuit-breaker.max-open-for")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(5))
                    .withDescription(
                            "Upper bound of the wait between probes, and so of the time the job"
                                    + " needs to notice that the provider is back.");

    public static final ConfigOption<Boolean> ADAPTIVE_CONCURRENCY =
            ConfigOptions.key("llm.adaptive-concurrency")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription(
                            "Adapt the calls in flight per subtask (AIMD): cut by 10% on a 429 or a"
                                    + " timeout, one more after a success while the limit is in use;"
                                    + " never above session.max-in-flight.");

    public static final ConfigOption<Integer> MIN_CONCURRENCY =
            ConfigOptions.key("llm.adaptive-concurrency.min")
                    .intType()
                    .defaultValue(2)
                    .withDescription("Lower bound of the adaptive calls-in-flight limit.");

    public static final ConfigOption<Boolean> INCIDENT_CACHE =
            ConfigOptions.key("llm.incident-cache.enabled")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Answer a session's first ticket from a cache when another session's"
                                    + " first ticket had the same normalized text (case, whitespace"
                                    + " and punctuation ignored) within the window, with the same"
                                    + " model and prompt. Such results have cached=true. For incident"
                                    + " floods (hundreds of 'is the site down?'). Per subtask, in"
                                    + " memory; empty after a restart.");

    public static final ConfigOption<Duration> INCIDENT_CACHE_WINDOW =
            ConfigOptions.key("llm.incident-cache.window")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(10))
                    .withDescription("How long a cached first-turn answer may be reused.");

    public static final ConfigOption<Integer> INCIDENT_CACHE_MAX_ENTRIES =
            ConfigOptions.key("llm.incident-cache.max-entries")
                    .intType()
                    .defaultValue(1000)
                    .withDescription("Cached answers per subtask; least recently used go first.");

    // ---------------------------------------------------------------- sessions

    public static final ConfigOption<Integer> MAX_IN_FLIGHT =
            ConfigOptions.key("session.max-in-flight")
                    .intType()
                    .defaultValue(64)
                    .withDescription(
                            "Upper bound of the LLM calls in flight per subtask (the adaptive limit"
                                    + " moves below it).");

    public static final ConfigOption<Integer> MAX_BACKLOG =
            ConfigOptions.key("session.max-backlog")
                    .intType()
                    .defaultValue(10_000)
                    .withDescription(
                            "Tickets per subtask that may be accepted while they cannot be sent yet"
                                    + " (all calls busy, rate budget spent, circuit open, or queued"
                                    + " behind their session's earlier tickets). They wait in keyed"
                                    + " state, so checkpoints keep completing; beyond this many, the"
                                    + " operator stops taking input (backpressure). The count is"
                                    + " rebuilt from state after a restore.");

    public static final ConfigOption<Integer> MAX_QUEUED_PER_SESSION =
            ConfigOptions.key("session.max-queued-per-session")
                    .intType()
                    .defaultValue(1_000)
                    .withDescription(
                            "Tickets of one session that may wait behind its ticket in flight. A"
                                    + " ticket beyond this goes to the dead-letter topic as"
                                    + " session_backlog_full (it gets no turn number); a flood of one"
                                    + " session cannot fill the state or the whole backlog.");

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
                            "A session's state (history, turn counter, recent ids) is deleted after"
                                    + " this long without a new ticket or answer, by a processing-time"
                                    + " timer; a later ticket starts a new conversation. A session never"
                                    + " expires while it has a ticket in flight or waiting, however"
                                    + " long the provider or the job was away.");

    // ---------------------------------------------------------------- customer context

    public static final ConfigOption<Boolean> CUSTOMERS_ENABLED =
            ConfigOptions.key("customers.enabled")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription(
                            "Join tickets with customer_id to the customers topic and to the customer's"
                                    + " recent tickets (read back from the results topic), in keyed"
                                    + " state; the context goes into the prompt and the priority rules.");

    public static final ConfigOption<Duration> CUSTOMERS_PROFILE_WAIT =
            ConfigOptions.key("customers.profile-wait")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(2))
                    .withDescription(
                            "How long a ticket whose customer has no profile yet waits for it (with"
                                    + " the customer's later tickets behind it, in order). Then it goes"
                                    + " on without one, and the prompt says the profile is unknown.");

    public static final ConfigOption<Integer> CUSTOMERS_HISTORY_SIZE =
            ConfigOptions.key("customers.history-size")
                    .intType()
                    .defaultValue(5)
                    .withDescription("Recent tickets kept per customer, across sessions.");

    public static final ConfigOption<Duration> CUSTOMERS_HISTORY_TTL =
            ConfigOptions.key("customers.history-ttl")
                    .durationType()
                    .defaultValue(Duration.ofDays(30))
                    .withDescription(
                            "A customer's ticket history expires this long after its last update.");

    public static final ConfigOption<List<String>> CUSTOMERS_HIGH_TIERS =
            ConfigOptions.key("customers.high-tiers")
                    .stringType()
                    .asList()
                    .defaultValues("gold", "platinum", "enterprise")
                    .withDescription(
                            "Tiers whose negative tickets get one priority level more (low to normal,"
                                    + " normal to high, high to urgent).");

    public static final ConfigOption<Integer> CUSTOMERS_REPEAT_CONTACTS =
            ConfigOptions.key("customers.repeat-contacts")
                    .intType()
                    .defaultValue(3)
                    .withDescription(
                            "A customer with at least this many earlier tickets within"
                                    + " customers.repeat-window gets at least high priority (0: off).");

    public static final ConfigOption<Duration> CUSTOMERS_REPEAT_WINDOW =
            ConfigOptions.key("customers.repeat-window")
                    .durationType()
                    .defaultValue(Duration.ofHours(24))
                    .withDescription("The window of the repeat-contact rule.");

    public static final ConfigOption<String> CUSTOMERS_HISTORY_KEY_FILE =
            ConfigOptions.key("customers.history-key-file")
                    .stringType()
                    .defaultValue("")
                    .withDescription(
                            "A file on the task managers holding a secret of at least 32 bytes (e.g."
                                    + " head -c 32 /dev/urandom). The job signs each result with it"
                                    + " (HMAC-SHA256 in the Kafka header triage-mac) and reads back as"
                                    + " customer history only results that carry its signature, so a"
                                    + " record someone else wrote to the results topic cannot forge a"
                                    + " customer's history (repeat contacts raise the priority)."
                                    + " Empty: results are not signed and the history is as"
                                    + " trustworthy as the topic's write ACL (docs/security.md).");

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

    public static final ConfigOption<String> FEW_SHOT_FILE =
            ConfigOptions.key("triage.few-shot.file")
                    .stringType()
                    .defaultValue("")
                    .withDescription(
                            "CSV (columns text, label) of labelled tickets shown to the model in the"
                                    + " system prompt as examples; labels must be categories. Read when"
                                    + " the job is submitted. Empty: none.");

    public static final ConfigOption<Integer> FEW_SHOT_PER_CLASS =
            ConfigOptions.key("triage.few-shot.per-class")
                    .intType()
                    .defaultValue(3)
                    .withDescription(
                            "Few-shot examples per category taken from the file (0: all).");

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

    // ---------------------------------------------------------------- bounds on untrusted input

    public static final ConfigOption<Duration> TICKET_MAX_FUTURE_SKEW =
            ConfigOptions.key("ticket.max-future-skew")
                    .durationType()
                    .defaultValue(Duration.ofHours(1))
                    .withDescription(
                            "How far ahead of the job's clock a ticket's created_at may be; a later one"
                                    + " (or one before 1970) goes to the DLQ as invalid_field.");

    public static final ConfigOption<Integer> MAX_RECORD_BYTES =
            ConfigOptions.key("kafka.max-record-bytes")
                    .intType()
                    .defaultValue(1_000_000)
                    .withDescription(
                            "Largest result or dead letter written (key plus value, UTF-8 bytes, at"
                                    + " least 16384); longer texts are cut to fit. Keep it below the"
                                    + " producer's max.request.size and the topics' max.message.bytes"
                                    + " (both about 1 MiB by default).");

    public static final ConfigOption<Integer> CUSTOMERS_MAX_RECORD_BYTES =
            ConfigOptions.key("customers.max-record-bytes")
                    .intType()
                    .defaultValue(16 * 1024)
                    .withDescription(
                            "Largest accepted customer record (bytes); larger ones go to the DLQ as"
                                    + " too_large.");

    public static final ConfigOption<Integer> MAX_SUMMARY_CHARS =
            ConfigOptions.key("triage.max-summary-chars")
                    .intType()
                    .defaultValue(2_000)
                    .withDescription(
                            "Longest summary accepted from the model; a longer answer is unusable"
                                    + " (repaired once, then llm_invalid_output).");

    public static final ConfigOption<Integer> MAX_DRAFT_REPLY_CHARS =
            ConfigOptions.key("triage.max-draft-reply-chars")
                    .intType()
                    .defaultValue(8_000)
                    .withDescription(
                            "Longest draft reply accepted from the model; a longer answer is unusable"
                                    + " (repaired once, then llm_invalid_output).");

    /** All options, for validation of settings files and for documentation. */
    public static final List<ConfigOption<?>> ALL = all();

    private static List<ConfigOption<?>> all() {
        List<ConfigOption<?>> all = new ArrayList<>();
        all.addAll(
                List.of(
                        KAFKA_BOOTSTRAP_SERVERS,
                        KAFKA_GROUP_ID,
                        TICKETS_TOPIC,
                        RESULTS_TOPIC,
                        DLQ_TOPIC,
                        STARTING_OFFSETS,
                        TRANSACTIONAL_ID_PREFIX,
                        TRANSACTION_TIMEOUT,
                        CUSTOMERS_TOPIC,
                        KAFKA_PROPERTIES));
        all.addAll(PRIMARY.all());
        all.addAll(FALLBACK.all());
        all.addAll(
                List.of(
                        LLM_TEMPERATURE,
                        LLM_MAX_OUTPUT_TOKENS,
                        LLM_REQUEST_TIMEOUT,
                        LLM_CONNECT_TIMEOUT,
                        LLM_MAX_ATTEMPTS,
                        LLM_TICKET_DEADLINE,
                        LLM_RETRY_INITIAL_BACKOFF,
                        LLM_RETRY_MAX_BACKOFF,
                        LLM_RETRY_MAX_ADVISED_WAIT,
                        LLM_REPAIR_INVALID_ANSWERS,
                        BREAKER_FAILURE_RATE,
                        BREAKER_WINDOW,
                        BREAKER_OPEN_FOR,
                        BREAKER_MAX_OPEN_FOR,
                        ADAPTIVE_CONCURRENCY,
                        MIN_CONCURRENCY,
                        INCIDENT_CACHE,
                        INCIDENT_CACHE_WINDOW,
                        INCIDENT_CACHE_MAX_ENTRIES,
                        MAX_IN_FLIGHT,
                        MAX_BACKLOG,
                        MAX_QUEUED_PER_SESSION,
                        HISTORY_TURNS,
                        HISTORY_CHARS,
                        DEDUPE_WINDOW,
                        SESSION_IDLE_TIMEOUT,
                        CUSTOMERS_ENABLED,
                        CUSTOMERS_PROFILE_WAIT,
                        CUSTOMERS_HISTORY_SIZE,
                        CUSTOMERS_HISTORY_TTL,
                        CUSTOMERS_HIGH_TIERS,
                        CUSTOMERS_REPEAT_CONTACTS,
                        CUSTOMERS_REPEAT_WINDOW,
                        CUSTOMERS_HISTORY_KEY_FILE,
                        MAX_BODY_BYTES,
                        SYSTEM_PROMPT,
                        CATEGORIES,
                        FEW_SHOT_FILE,
                        FEW_SHOT_PER_CLASS,
                        JOB_NAME,
                        PARALLELISM,
                        MAX_PARALLELISM,
                        FALLBACK_CHECKPOINT_INTERVAL));
        all.addAll(
                List.of(
                        TICKET_MAX_FUTURE_SKEW,
                        MAX_RECORD_BYTES,
                        CUSTOMERS_MAX_RECORD_BYTES,
                        MAX_SUMMARY_CHARS,
                        MAX_DRAFT_REPLY_CHARS));
        return List.copyOf(all);
    }
}
