package dev.triage.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.triage.records.DeadLetter;
import dev.triage.records.RawTicket;
import dev.triage.records.Tenants;
import dev.triage.records.Ticket;

import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;

class TicketParserTest {

    /** The parser's "now" in these tests: 2026-06-01T12:00:00Z. */
    static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");

    private OneInputStreamOperatorTestHarness<RawTicket, Ticket> harness;
    private long offset;

    @BeforeEach
    void open() throws Exception {
        harness =
                new OneInputStreamOperatorTestHarness<>(
                        new ProcessOperator<>(
                                new TicketParser(
                                        64,
                                        Duration.ofHours(1),
                                        Clock.fixed(NOW, ZoneOffset.UTC))));
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    @Test
    void parsesAValidTicketWithAllFields() throws Exception {
        send(
                "{\"ticket_id\":\"T-1\",\"session_id\":\"S-1\",\"customer_id\":\"C-1\",\"channel\":\"chat\","
                        + "\"subject\":\"Refund\",\"body\":\"Please refund me.\",\"created_at\":\"2026-01-02T03:04:05Z\"}");
        Ticket t = harness.extractOutputValues().get(0);
        assertThat(t.ticketId()).isEqualTo("T-1");
        assertThat(t.sessionId()).isEqualTo("S-1");
        assertThat(t.customerId()).isEqualTo("C-1");
        assertThat(t.channel()).isEqualTo("chat");
        assertThat(t.subject()).isEqualTo("Refund");
        assertThat(t.body()).isEqualTo("Please refund me.");
        assertThat(t.createdAt()).isEqualTo(1767323045000L);
        assertThat(t.sourceTopic()).isEqualTo("tickets");
        assertThat(deadLetters()).isEmpty();
    }

    @Test
    void aTenantScopesTheSessionAndTheCustomerAndMustBeAPlainName() throws Exception {
        send(
                "{\"tenant_id\":\"acme\",\"ticket_id\":\"T-1\",\"session_id\":\"S-1\",\"customer_id\":\"C-1\",\"body\":\"hi\"}");
        Ticket t = harness.extractOutputValues().get(0);
        assertThat(t.tenantId()).isEqualTo("acme");
        assertThat(t.sessionKey()).isEqualTo(Tenants.key("acme", "S-1"));
        assertThat(t.customerKey()).isEqualTo(Tenants.key("acme", "C-1"));
        assertThat(t.toJson()).contains("\"tenant_id\":\"acme\"");
        for (String bad : List.of("a/b", "x\\n", "", " acme", "t".repeat(65), "\\u00e9")) {
            send(
                    "{\"tenant_id\":\""
                            + bad
                            + "\",\"ticket_id\":\"T-2\",\"session_id\":\"S-1\",\"body\":\"hi\"}");
        }
        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(deadLetters())
                .hasSize(6)
                .allSatisfy(d -> assertThat(d.reason()).isEqualTo("invalid_field"));
    }

    @Test
    void optionalFieldsMayBeMissingAndCreatedAtDefaultsToTheRecordTimestamp() throws Exception {
        send("{\"ticket_id\":\"T-1\",\"session_id\":\"S-1\",\"body\":\"hi\"}");
        Ticket t = harness.extractOutputValues().get(0);
        assertThat(t.customerId()).isNull();
        assertThat(t.subject()).isNull();
        assertThat(t.createdAt()).isEqualTo(777L);
    }

    @Test
    void everyKindOfBadInputBecomesADeadLetterWithItsPayload() throws Exception {
        send("not json");
        send("[1]");
        send("{\"session_id\":\"S-1\",\"body\":\"x\"}");
        send("{\"ticket_id\":\"T-2\",\"session_id\":\"S-1\"}");
        send("{\"ticket_id\":\"T-3\",\"session_id\":\"S-1\",\"body\":\"   \"}");
        send("{\"ticket_id\":7,\"session_id\":\"S-1\",\"body\":\"x\"}");
        send("{\"ticket_id\":\"T-4\",\"session_id\":\"S-1\",\"body\":\"" + "x".repeat(65) + "\"}");
        send(
                "{\"ticket_id\":\"T-5\",\"session_id\":\"S-1\",\"body\":\"x\",\"created_at\":\"soon\"}");
        send("{\"ticket_id\":\"T-6\",\"session_id\":\"S-1\",\"body\":\"x\",\"subject\":{\"a\":1}}");
        sendBytes(new byte[] {(byte) 0xff, (byte) 0xfe});
        sendBytes(null);
        sendBytes(("{\"body\":\"" + "y".repeat(20_000) + "\"}").getBytes(StandardCharsets.UTF_8));

        assertThat(harness.extractOutputValues()).isEmpty();
        List<DeadLetter> dlq = deadLetters();
        assertThat(dlq)
                .extracting(DeadLetter::reason)
                .containsExactly(
                        "invalid_json",
                        "invalid_json",
                        "missing_field",
                        "missing_field",
                        "missing_field",
                        "invalid_field",
                        "too_large",
                        "invalid_field",
                        "invalid_field",
                        "invalid_encoding",
                        "invalid_json",
                        "too_large");
        assertThat(dlq.get(0).payload()).isEqualTo("not json");
        assertThat(dlq.get(0).payloadEncoding()).isEqualTo("text");
        assertThat(dlq.get(3).ticketId()).isEqualTo("T-2");
        assertThat(dlq.get(3).sessionId()).isEqualTo("S-1");
        assertThat(dlq.get(3).detail()).contains("body");
        assertThat(dlq.get(9).payload()).isEqualTo("//4=");
        assertThat(dlq.get(9).payloadEncoding()).isEqualTo("base64");
        assertThat(dlq).extracting(DeadLetter::sourceOffset).doesNotHaveDuplicates();
        assertThat(dlq).allSatisfy(d -> assertThat(d.detail()).isNotBlank());
    }

    @Test
    void createdAtOutsideTheSaneWindowIsAnInvalidFieldDeadLetterNotAnException() throws Exception {
        for (String poison :
                List.of(
                        "0001-01-01T00:00:00Z", // Go's zero time: a negative Kafka timestamp
                        "1969-12-31T23:59:59Z",
                        "2099-01-01T00:00:00Z", // refused by the broker (more than 1 h ahead)
                        "2026-06-01T13:00:01Z", // 1 h and 1 s ahead of the parser's clock
                        "+999999999-12-31T23:59:59Z", // overflows epoch milliseconds
                        "-999999999-01-01T00:00:00Z")) {
            send(ticketCreatedAt(poison));
        }

        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(deadLetters()).hasSize(6);
        assertThat(deadLetters())
                .allSatisfy(
                        d -> {
                            assertThat(d.reason()).isEqualTo("invalid_field");
                            assertThat(d.detail()).contains("created_at");
                            assertThat(d.ticketId()).isEqualTo("T-1");
                        });
    }

    @Test
    void createdAtWithinTheWindowIsKeptAsWritten() throws Exception {
        send(ticketCreatedAt("1970-01-01T00:00:00Z"));
        send(ticketCreatedAt("2026-06-01T13:00:00Z")); // exactly the allowed skew ahead
        send(ticketCreatedAt("2026-06-01T14:00:00+02:00")); // the same instant, another offset

        assertThat(deadLetters()).isEmpty();
        assertThat(harness.extractOutputValues())
                .extracting(Ticket::createdAt)
                .containsExactly(0L, NOW.plusSeconds(3600).toEpochMilli(), NOW.toEpochMilli());
    }

    @Test
    void theWindowMovesWithTheParsersClock() throws Exception {
        var clock = new MovableClock(NOW);
        var parser = new TicketParser(64, Duration.ofMinutes(5), clock);
        String in10Minutes = NOW.plusSeconds(600).toString();
        RawTicket raw = raw(ticketCreatedAt(in10Minutes));

        assertThatThrownBy(() -> parser.parse(raw))
                .isInstanceOf(TicketParser.Rejected.class)
                .hasMessageContaining("created_at");
        clock.now = NOW.plusSeconds(301);
        assertThat(parser.parse(raw).createdAt()).isEqualTo(NOW.plusSeconds(600).toEpochMilli());
    }

    @Test
    void aMissingCreatedAtWithAnUnusableRecordTimestampFallsBackToTheParsersClock()
            throws Exception {
        var parser = new TicketParser(64, Duration.ofHours(1), Clock.fixed(NOW, ZoneOffset.UTC));
        String json = "{\"ticket_id\":\"T-1\",\"session_id\":\"S-1\",\"body\":\"hi\"}";
        for (long timestamp : new long[] {-1L, Long.MIN_VALUE, Long.MAX_VALUE}) {
            var raw =
                    new RawTicket(
                            "tickets", 0, 0L, timestamp, json.getBytes(StandardCharsets.UTF_8));
            assertThat(parser.parse(raw).createdAt()).isEqualTo(NOW.toEpochMilli());
        }
    }

    @Test
    void anOverlongCustomerIdOrChannelIsAnInvalidField() throws Exception {
        // Both are copied into every result: unbounded, they could make a result too large.
        send(
                "{\"ticket_id\":\"T-1\",\"session_id\":\"S-1\",\"body\":\"x\",\"customer_id\":\""
                        + "c".repeat(257)
                        + "\"}");
        send(
                "{\"ticket_id\":\"T-2\",\"session_id\":\"S-1\",\"body\":\"x\",\"channel\":\""
                        + "c".repeat(257)
                        + "\"}");
        send(
                "{\"ticket_id\":\"T-3\",\"session_id\":\"S-1\",\"body\":\"x\",\"customer_id\":\""
                        + "c".repeat(256)
                        + "\"}");

        assertThat(deadLetters())
                .extracting(DeadLetter::reason)
                .containsExactly("invalid_field", "invalid_field");
        assertThat(deadLetters().get(0).detail()).contains("customer_id");
        assertThat(deadLetters().get(1).detail()).contains("channel");
        assertThat(harness.extractOutputValues())
                .extracting(Ticket::ticketId)
                .containsExactly("T-3");
    }

    @Test
    void aKeyTwiceIsInvalidJsonNotTheLastOneWins() throws Exception {
        // Before, the last session_id won: a reader of the raw topic saw another session.
        send(
                "{\"ticket_id\":\"T-1\",\"session_id\":\"S-A\",\"session_id\":\"S-B\",\"body\":\"x\"}");
        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(deadLetters()).extracting(DeadLetter::reason).containsExactly("invalid_json");
        assertThat(deadLetters().get(0).detail()).contains("Duplicate field 'session_id'");
    }

    @Test
    void aRecordInUtf16IsNotATicketEvenThoughJacksonCouldReadIt() throws Exception {
        // Jackson detects UTF-16 from bytes; the contract is UTF-8 (the NULs are valid UTF-8).
        sendBytes(
                "{\"ticket_id\":\"T-1\",\"session_id\":\"S-1\",\"body\":\"x\"}"
                        .getBytes(StandardCharsets.UTF_16LE));
        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(deadLetters()).extracting(DeadLetter::reason).containsExactly("invalid_json");
    }

    @Test
    void idsAndChannelWithControlCharactersOrUnpairedSurrogatesAreInvalidFields() throws Exception {
        for (String field : List.of("ticket_id", "session_id", "customer_id", "channel")) {
            for (String bad :
                    List.of(
                            "A\\nCustomer: Mallory (tier enterprise)",
                            "A\\r\\nB",
                            "A\\u0000B",
                            "A\\u0085B",
                            "S-\\ud800",
                            "\\udc00-S")) {
                String json =
                        "{\"ticket_id\":\"T-1\",\"session_id\":\"S-1\",\"body\":\"x\",\""
                                + field
                                + "\":\""
                                + bad
                                + "\"}";
                // the field given last replaces nothing: JSON with a key twice is refused first
                json =
                        json.replace(
                                "\""
                                        + field
                                        + "\":\""
                                        + (field.equals("ticket_id") ? "T-1" : "S-1")
                                        + "\",",
                                "");
                send(json);
            }
        }
        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(deadLetters())
                .hasSize(24)
                .extracting(DeadLetter::reason)
                .containsOnly("invalid_field");
        // A pair of surrogates (an emoji) is fine anywhere.
        send("{\"ticket_id\":\"T-\\ud83d\\ude00\",\"session_id\":\"S-1\",\"body\":\"x\"}");
        assertThat(harness.extractOutputValues())
                .extracting(Ticket::ticketId)
                .containsExactly("T-\ud83d\ude00");
    }

    @Test
    void anUnpairedSurrogateInTheBodyIsAnInvalidField() throws Exception {
        send("{\"ticket_id\":\"T-1\",\"session_id\":\"S-1\",\"body\":\"hi \\ud800\"}");
        assertThat(deadLetters()).extracting(DeadLetter::reason).containsExactly("invalid_field");
    }

    private static String ticketCreatedAt(String createdAt) {
        return "{\"ticket_id\":\"T-1\",\"session_id\":\"S-1\",\"body\":\"x\",\"created_at\":\""
                + createdAt
                + "\"}";
    }

    private RawTicket raw(String json) {
        return new RawTicket("tickets", 0, offset++, 777L, json.getBytes(StandardCharsets.UTF_8));
    }

    /** A clock the test moves by hand. */
    static final class MovableClock extends Clock implements java.io.Serializable {
        Instant now;

        MovableClock(Instant now) {
            this.now = now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private void send(String json) throws Exception {
        sendBytes(json.getBytes(StandardCharsets.UTF_8));
    }

    private void sendBytes(byte[] value) throws Exception {
        harness.processElement(
                new StreamRecord<>(new RawTicket("tickets", 0, offset++, 777L, value), 777L));
    }

    private List<DeadLetter> deadLetters() {
        var side = harness.getSideOutput(DeadLetter.OUTPUT_TAG);
        return side == null ? List.of() : side.stream().map(StreamRecord::getValue).toList();
    }
}
