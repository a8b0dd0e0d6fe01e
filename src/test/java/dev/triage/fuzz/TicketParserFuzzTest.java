package dev.triage.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.ingest.TicketParser;
import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetterSerializer;
import dev.triage.records.RawTicket;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;
import dev.triage.records.TriageResultSerializer;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

/**
 * Raw bytes from the tickets topic: exactly one outcome, a valid ticket or a dead letter, and
 * whatever comes out is a record the sinks can write.
 */
class TicketParserFuzzTest {

    static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    static final int MAX_BODY_BYTES = 1024;

    private final TicketParser parser =
            new TicketParser(MAX_BODY_BYTES, Duration.ofHours(1), Clock.fixed(NOW, ZoneOffset.UTC));

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) {
        // the record timestamp comes from the first 8 bytes when present (any long, -1 included)
        long timestamp = data.length >= 8 ? java.nio.ByteBuffer.wrap(data).getLong() : 777L;
        RawTicket raw = new RawTicket("tickets", 0, 1L, timestamp, data);
        Ticket ticket;
        try {
            ticket = parser.parse(raw);
        } catch (TicketParser.Rejected r) {
            assertThat(r.reason()).isNotNull();
            assertThat(r.getMessage()).isNotBlank();
            DeadLetter letter =
                    DeadLetter.ofRaw(
                            r.reason(), r.getMessage(), null, null, raw, NOW.toEpochMilli());
            assertThat(letter.payloadBytes()).isEqualTo(data.length);
            FuzzInputs.assertFits(
                    new DeadLetterSerializer("dlq").serialize(letter, null, letter.failedAt()),
                    1_000_000);
            return;
        }
        assertThat(ticket).isNotNull();
        assertThat(ticket.ticketId()).isNotBlank().hasSizeLessThanOrEqualTo(256);
        assertThat(ticket.sessionId()).isNotBlank().hasSizeLessThanOrEqualTo(256);
        assertThat(ticket.body()).isNotBlank();
        assertThat(ticket.body().getBytes(StandardCharsets.UTF_8).length)
                .isLessThanOrEqualTo(MAX_BODY_BYTES);
        assertThat(ticket.createdAt())
                .isBetween(0L, NOW.toEpochMilli() + Duration.ofHours(1).toMillis());
        FuzzInputs.assertFits(
                new DeadLetterSerializer("dlq")
                        .serialize(
                                DeadLetter.ofTicket(
                                        DeadLetter.Reason.LLM_REJECTED, "no", ticket, null, 0L),
                                null,
                                ticket.createdAt()),
                1_000_000);
        TriageResult result =
                new TriageResult(
                        ticket.ticketId(),
                        ticket.sessionId(),
                        ticket.customerId(),
                        1,
                        "billing",
                        "high",
                        "negative",
                        "s",
                        "r",
                        0.5,
                        "m",
                        1,
                        1,
                        1,
                        ticket.createdAt(),
                        NOW.toEpochMilli(),
                        1L,
                        false);
        FuzzInputs.assertFits(
                new TriageResultSerializer("results").serialize(result, null, ticket.createdAt()),
                1_000_000);
    }
}
