package dev.triage.operators;

import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetter.Reason;
import dev.triage.records.Json;
import dev.triage.records.RawTicket;
import dev.triage.records.Ticket;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * Parses and validates raw ticket records. Valid tickets go to the main output; everything else
 * becomes a {@link DeadLetter} on {@link DeadLetter#OUTPUT_TAG} with the original payload. Never
 * throws on bad input.
 */
public class TicketParser extends ProcessFunction<RawTicket, Ticket> {

    static final int MAX_ID_LENGTH = 256;
    static final int MAX_SUBJECT_LENGTH = 1024;

    private final int maxBodyBytes;

    public TicketParser(int maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    private transient java.util.Map<String, org.apache.flink.metrics.Counter> rejectedByReason;

    /** Dead letters per reason, as the metric {@code reason_deadLetters} (Prometheus label). */
    private org.apache.flink.metrics.Counter rejected(String reason) {
        if (rejectedByReason == null) {
            rejectedByReason = new java.util.HashMap<>();
        }
        return rejectedByReason.computeIfAbsent(
                reason,
                r ->
                        getRuntimeContext()
                                .getMetricGroup()
                                .addGroup("reason", r)
                                .counter("deadLetters"));
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
                            System.currentTimeMillis()));
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
        if (DeadLetter.decodeUtf8(bytes) == null) {
            throw new Rejected(
                    Reason.INVALID_ENCODING, "record value is not valid UTF-8", null, null);
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(bytes);
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
        long createdAt = raw.timestamp();
        String createdText = optionalText(node, "created_at", ticketId, sessionId);
        if (createdText != null) {
            try {
                createdAt = OffsetDateTime.parse(createdText).toInstant().toEpochMilli();
            } catch (DateTimeParseException e) {
                throw new Rejected(
                        Reason.INVALID_FIELD,
                        "created_at is not an ISO-8601 date-time with offset: " + createdText,
                        ticketId,
                        sessionId);
            }
        }
        return new Ticket(
                ticketId,
                sessionId,
                optionalText(node, "customer_id", ticketId, sessionId),
                optionalText(node, "channel", ticketId, sessionId),
                subject,
                body,
                createdAt,
                raw.topic(),
                raw.partition(),
                raw.offset());
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
        if (text.length() > MAX_ID_LENGTH) {
            throw new Rejected(
                    Reason.INVALID_FIELD,
                    field + " is longer than " + MAX_ID_LENGTH + " characters",
                    ticketId,
                    sessionId);
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
        return value.asText();
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
