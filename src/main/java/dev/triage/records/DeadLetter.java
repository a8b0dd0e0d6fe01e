package dev.triage.records;

import dev.triage.io.Json;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * An input that cannot be triaged, with a stable reason code, the original payload (or a prefix of
 * it: {@code payloadBytes} and {@code payloadSha256} describe the whole) and where it came from.
 * Written to the dead-letter topic by {@link DeadLetterSerializer}, which cuts it to fit.
 */
public record DeadLetter(
        String reason,
        String detail,
        String ticketId,
        String sessionId,
        String sourceTopic,
        int sourcePartition,
        long sourceOffset,
        String payload,
        String payloadEncoding,
        String llmOutput,
        long failedAt,
        long payloadBytes,
        String payloadSha256,
        boolean payloadTruncated) {

    /** Side output that every operator uses for dead letters. */
    public static final OutputTag<DeadLetter> OUTPUT_TAG =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));

    /** Stable reason codes; consumers may switch on them. */
    public enum Reason {
        INVALID_ENCODING("invalid_encoding"),
        INVALID_JSON("invalid_json"),
        MISSING_FIELD("missing_field"),
        INVALID_FIELD("invalid_field"),
        TOO_LARGE("too_large"),
        LLM_REJECTED("llm_rejected"),
        LLM_INVALID_OUTPUT("llm_invalid_output"),
        LLM_UNAVAILABLE("llm_unavailable"),
        /** The session already had session.max-queued-per-session tickets waiting. */
        SESSION_BACKLOG_FULL("session_backlog_full"),
        /** A ticket id the session has seen before, with other content. */
        DUPLICATE_TICKET_ID("duplicate_ticket_id");

        public final String code;

        Reason(String code) {
            this.code = code;
        }
    }

    /** A dead letter whose payload is whole: its size and digest are computed from it. */
    public DeadLetter(
            String reason,
            String detail,
            String ticketId,
            String sessionId,
            String sourceTopic,
            int sourcePartition,
            long sourceOffset,
            String payload,
            String payloadEncoding,
            String llmOutput,
            long failedAt) {
        this(
                reason,
                detail,
                ticketId,
                sessionId,
                sourceTopic,
                sourcePartition,
                sourceOffset,
                payload,
                payloadEncoding,
                llmOutput,
                failedAt,
                payloadBytesOf(payload, payloadEncoding).length,
                sha256(payloadBytesOf(payload, payloadEncoding)),
                false);
    }

    /** A dead letter for a raw input record that never became a ticket. */
    public static DeadLetter ofRaw(
            Reason reason,
            String detail,
            String ticketId,
            String sessionId,
            RawTicket raw,
            long now) {
        byte[] bytes = raw.value() == null ? new byte[0] : raw.value();
        String text = decodeUtf8(bytes);
        String payload;
        boolean truncated;
        if (text != null) {
            payload = Json.utf8PrefixWithin(text, RecordLimits.MAX_IN_FLIGHT_PAYLOAD_BYTES);
            truncated = payload.length() < text.length();
        } else {
            int kept = Math.min(bytes.length, RecordLimits.MAX_IN_FLIGHT_PAYLOAD_BYTES / 4 * 3);
            payload = Base64.getEncoder().encodeToString(Arrays.copyOf(bytes, kept));
            truncated = kept < bytes.length;
        }
        return new DeadLetter(
                reason.code,
                detail,
                ticketId,
                sessionId,
                raw.topic(),
                raw.partition(),
                raw.offset(),
                payload,
                text != null ? "text" : "base64",
                null,
                now,
                bytes.length,
                sha256(bytes),
                truncated);
    }

    /** A dead letter for a parsed ticket that the model could not triage. */
    public static DeadLetter ofTicket(
            Reason reason, String detail, Ticket ticket, String llmOutput, long now) {
        String json = ticket.toJson();
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        String payload = Json.utf8PrefixWithin(json, RecordLimits.MAX_IN_FLIGHT_PAYLOAD_BYTES);
        return new DeadLetter(
                reason.code,
                detail,
                ticket.ticketId(),
                ticket.sessionId(),
                ticket.sourceTopic(),
                ticket.sourcePartition(),
                ticket.sourceOffset(),
                payload,
                "text",
                llmOutput,
                now,
                bytes.length,
                sha256(bytes),
                payload.length() < json.length());
    }

    /** Lower-case hex SHA-256 of {@code bytes}. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private static byte[] payloadBytesOf(String payload, String encoding) {
        if (payload == null) {
            return new byte[0];
        }
        if ("base64".equals(encoding)) {
            try {
                return Base64.getDecoder().decode(payload);
            } catch (IllegalArgumentException e) {
                // not base64 after all: describe the text as it is
            }
        }
        return payload.getBytes(StandardCharsets.UTF_8);
    }

    /** Strict UTF-8 decoding; null when the bytes are not valid UTF-8. */
    public static String decodeUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
