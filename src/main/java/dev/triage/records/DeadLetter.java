package dev.triage.records;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * An input that cannot be triaged, with a stable reason code, the original payload and where it
 * came from. Written to the dead-letter topic by {@link DeadLetterSerializer}.
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
        long failedAt) {

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
        return new DeadLetter(
                reason.code,
                detail,
                ticketId,
                sessionId,
                raw.topic(),
                raw.partition(),
                raw.offset(),
                text != null ? text : Base64.getEncoder().encodeToString(bytes),
                text != null ? "text" : "base64",
                null,
                now);
    }

    /** A dead letter for a parsed ticket that the model could not triage. */
    public static DeadLetter ofTicket(
            Reason reason, String detail, Ticket ticket, String llmOutput, long now) {
        return new DeadLetter(
                reason.code,
                detail,
                ticket.ticketId(),
                ticket.sessionId(),
                ticket.sourceTopic(),
                ticket.sourcePartition(),
                ticket.sourceOffset(),
                ticket.toJson(),
                "text",
                llmOutput,
                now);
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
