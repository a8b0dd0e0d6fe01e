package dev.triage.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.records.DeadLetter;
import dev.triage.records.RawTicket;
import dev.triage.records.Ticket;

import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

class TicketParserTest {

    private OneInputStreamOperatorTestHarness<RawTicket, Ticket> harness;
    private long offset;

    @BeforeEach
    void open() throws Exception {
        harness =
                new OneInputStreamOperatorTestHarness<>(
                        new ProcessOperator<>(new TicketParser(64)));
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
