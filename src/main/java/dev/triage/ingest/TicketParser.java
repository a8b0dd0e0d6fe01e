package dev.triage.ingest;

import dev.triage.io.Json;
import dev.triage.metrics.LabelledCounters;
import dev.triage.metrics.MetricNames;
import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetter.Reason;
import dev.triage.records.RawTicket;
import dev.triage.records.Tenants;
import dev.triage.records.Ticket;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * Parses and validates raw ticket records. Valid tickets go to the main output; everything else
 * becomes a {@link DeadLetter} on {@link DeadLetter#OUTPUT_TAG} with the original payload. Never
 * throws on bad input.
 *
 * <p>Over 300 lines because it is the input contract: one rule per field (ids, sizes, time bounds,
 * tenant), each with its own dead-letter reason and detail.
 */
public class TicketParser extends ProcessFunction<RawTicket, Ticket> {

    static final int MAX_ID_LENGTH = 256;
    static final int MAX_SUBJECT_LENGTH = 1024;

    /**
     * The earliest accepted {@code created_at}: 1970-01-01T00:00:00Z (a Kafka timestamp is >= 0).
     */
    static final long EARLIEST_CREATED_AT = 0L;

    /** Default of {@code ticket.max-future-skew}: the broker's default tolerance too. */
    public static final Duration DEFAULT_MAX_FUTURE_SKEW = Duration.ofHours(1);

    private final int maxBodyBytes;
    private final long maxFutureSkewMs;
    private final Clock clock;

    public TicketParser(int maxBodyBytes) {
        this(maxBodyBytes, DEFAULT_MAX_FUTURE_SKEW, Clock.systemUTC());
    }

    /**
     * {@code maxFutureSkew}: how far ahead of {@code clock} a {@code created_at} may be (clock skew
     * between producers and this job); the clock is the parser's only source of "now".
     */
    public TicketParser(int maxBodyBytes, Duration maxFutureSkew, Clock clock) {
        this.maxBodyBytes = maxBodyBytes;
        this.maxFutureSkewMs = maxFutureSkew.toMillis();
        this.clock = clock;
    }

    private transient LabelledCounters rejectedByReason;

    /** Dead letters per reason, as the metric {@code reason_deadLetters} (Prometheus label). */
    private org.apache.flink.metrics.Counter rejected(String reason) {
        if (rejectedByReason == null) {
            rejectedByReason = new LabelledCounters(getRuntimeContext().getMetricGroup());
        }
        return rejectedByReason.get(MetricNames.DEAD_LETTERS_BY_REASON, reason);
    }

    @Override
    public void processElement(RawTicket raw, Context ctx, Collector<Ticket> out) {
        try {
            out.collect(parse(raw));
        } catch (Rejected r) {
            rejected(r.reason.code).inc();
            ctx.output(
                    DeadLetter.OUTPUT_TAG,
                    DeadLetter.ofRaw(
                            r.reason,
                            r.getMessage(),
                            r.ticketId,
                            r.sessionId,
                            raw,
                            clock.millis()));
        }
    }

    /** Parses and validates one record; outside Flink too (the benchmark's worker pool). */
    public Ticket parse(RawTicket raw) throws Rejected {
        byte[] bytes = raw.value();
        if (bytes == null || bytes.length == 0) {
            throw new Rejected(Reason.INVALID_JSON, "empty record value", null, null);
        }
        // A generous bound on the whole record, checked before parsing anything.
        if (bytes.length > 2L * maxBodyBytes + 16 * 1024) {
            throw new Rejected(
                    Reason.TOO_LARGE,
                    "record of " + bytes.length + " bytes exceeds the limit for a ticket",
                    null,
                    null);
        }
        String text = DeadLetter.decodeUtf8(bytes);
        if (text == null) {
            throw new Rejected(
                    Reason.INVALID_ENCODING, "record value is not valid UTF-8", null, null);
        }
        JsonNode node;
        try {
            // The decoded text, strictly: UTF-8 only (from bytes Jackson would take UTF-16), and
            // no key twice (the last one would win: two readers could see two tickets).
            node = Json.STRICT.readTree(text);
        } catch (JsonProcessingException e) {
            throw new Rejected(Reason.INVALID_JSON, firstLine(e.getOriginalMessage()), null, null);
        } catch (java.io.IOException e) {
            throw new Rejected(Reason.INVALID_JSON, firstLine(e.getMessage()), null, null);
        }
        if (node == null || !node.isObject()) {
            throw new Rejected(Reason.INVALID_JSON, "expected a JSON object", null, null);
        }
        // Pick up the ids leniently first so that a dead letter can name them when possible.
        String ticketId =
                node.path("ticket_id").isTextual() ? node.get("ticket_id").asText() : null;
        String sessionId =
                node.path("session_id").isTextual() ? node.get("session_id").asText() : null;

        ticketId = requiredId(node, "ticket_id", ticketId, sessionId);
        sessionId = requiredId(node, "session_id", ticketId, sessionId);
        String body = optionalText(node, "body", ticketId, sessionId);
        if (body == null || body.isBlank()) {
            throw new Rejected(
                    Reason.MISSING_FIELD,
                    "body is required and must not be empty",
                    ticketId,
                    sessionId);
        }
        int bodyBytes = body.getBytes(StandardCharsets.UTF_8).length;
        if (bodyBytes > maxBodyBytes) {
            throw new Rejected(
                    Reason.TOO_LARGE,
                    "body has " + bodyBytes + " bytes; the limit is " + maxBodyBytes,
                    ticketId,
                    sessionId);
        }
        String subject = optionalText(node, "subject", ticketId, sessionId);
        if (subject != null && subject.length() > MAX_SUBJECT_LENGTH) {
            throw new Rejected(
                    Reason.TOO_LARGE,
                    "subject is longer than " + MAX_SUBJECT_LENGTH + " characters",
                    ticketId,
                    sessionId);
        }
        long now = clock.millis();
        long latest = now + maxFutureSkewMs;
        long createdAt = raw.timestamp();
        if (createdAt < EARLIEST_CREATED_AT || createdAt > latest) {
            createdAt = now; // no usable record timestamp: the time the job first saw the ticket
        }
        String createdText = optionalText(node, "created_at", ticketId, sessionId);
        if (createdText != null) {
            Instant created;
            try {
                created = OffsetDateTime.parse(createdText).toInstant();
            } catch (DateTimeParseException e) {
                throw new Rejected(
                        Reason.INVALID_FIELD,
                        "created_at is not an ISO-8601 date-time with offset: "
                                + quoted(createdText),
                        ticketId,
                        sessionId);
            }
            // Compared as instants: epoch milliseconds of year +999999999 overflow a long.
            if (created.isBefore(Instant.ofEpochMilli(EARLIEST_CREATED_AT))
                    || created.isAfter(Instant.ofEpochMilli(latest))) {
                throw new Rejected(
                        Reason.INVALID_FIELD,
                        "created_at "
                                + quoted(createdText)
                                + " is outside "
                                + Instant.ofEpochMilli(EARLIEST_CREATED_AT)
                                + " .. now + "
                                + Duration.ofMillis(maxFutureSkewMs)
                                + " ("
                                + Instant.ofEpochMilli(latest)
                                + ")",
                        ticketId,
                        sessionId);
            }
            createdAt = created.toEpochMilli();
        }
        String tenant = optionalText(node, "tenant_id", ticketId, sessionId);
        if (tenant != null && !Tenants.valid(tenant)) {
            throw new Rejected(
                    Reason.INVALID_FIELD,
                    "tenant_id must be 1 to 64 letters, digits, '.', '_' or '-': " + quoted(tenant),
                    ticketId,
                    sessionId);
        }
        Ticket ticket =
                new Ticket(
                        ticketId,
                        sessionId,
                        optionalId(node, "customer_id", ticketId, sessionId),
                        optionalId(node, "channel", ticketId, sessionId),
                        subject,
                        body,
                        createdAt,
                        raw.topic(),
                        raw.partition(),
                        raw.offset());
        return tenant == null ? ticket : ticket.inTenant(tenant);
    }

    private static String requiredId(JsonNode node, String field, String ticketId, String sessionId)
            throws Rejected {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new Rejected(Reason.MISSING_FIELD, field + " is required", ticketId, sessionId);
        }
        if (!value.isTextual()) {
            throw new Rejected(
                    Reason.INVALID_FIELD, field + " must be a string", ticketId, sessionId);
        }
        String text = value.asText();
        if (text.isBlank()) {
            throw new Rejected(
                    Reason.MISSING_FIELD, field + " must not be empty", ticketId, sessionId);
        }
        checkId(field, text, ticketId, sessionId);
        return text;
    }

    /**
     * An id (or channel) goes into keys, prompts and log lines: at most {@link #MAX_ID_LENGTH}
     * characters, no control characters (CR/LF would forge prompt or log lines), no lone surrogates
     * (UTF-8 cannot encode them: two sessions would share the key {@code ?}).
     */
    private static void checkId(String field, String text, String ticketId, String sessionId)
            throws Rejected {
        if (text.length() > MAX_ID_LENGTH) {
            throw new Rejected(
                    Reason.INVALID_FIELD,
                    field + " is longer than " + MAX_ID_LENGTH + " characters",
                    ticketId,
                    sessionId);
        }
        if (Json.hasControlOrLoneSurrogate(text)) {
            throw new Rejected(
                    Reason.INVALID_FIELD,
                    field + " has a control character or an unpaired surrogate",
                    ticketId,
                    sessionId);
        }
    }

    /** An optional text copied into every result: at most {@link #MAX_ID_LENGTH} characters. */
    private static String optionalId(JsonNode node, String field, String ticketId, String sessionId)
            throws Rejected {
        String text = optionalText(node, field, ticketId, sessionId);
        if (text != null) {
            checkId(field, text, ticketId, sessionId);
        }
        return text;
    }

    private static String optionalText(
            JsonNode node, String field, String ticketId, String sessionId) throws Rejected {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new Rejected(
                    Reason.INVALID_FIELD, field + " must be a string", ticketId, sessionId);
        }
        String text = value.asText();
        if (Json.hasLoneSurrogate(text)) {
            throw new Rejected(
                    Reason.INVALID_FIELD,
                    field + " has an unpaired surrogate (not encodable as UTF-8)",
                    ticketId,
                    sessionId);
        }
        return text;
    }

    /** A user's text in a detail message: quoted, at most 64 characters. */
    private static String quoted(String text) {
        return "'" + (text.length() <= 64 ? text : text.substring(0, 64) + "...") + "'";
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "malformed JSON";
        }
        int nl = message.indexOf('\n');
        return "malformed JSON: " + (nl < 0 ? message : message.substring(0, nl));
    }

    /** Why a record was rejected; carries the ids when they could be read. */
    /** Why a record is not a valid ticket; {@link #getMessage()} says what is wrong. */
    public static final class Rejected extends Exception {
        final Reason reason;
        final String ticketId;
        final String sessionId;

        Rejected(Reason reason, String detail, String ticketId, String sessionId) {
            super(detail, null, false, false);
            this.reason = reason;
            this.ticketId = ticketId;
            this.sessionId = sessionId;
        }

        public Reason reason() {
            return reason;
        }
    }
}
