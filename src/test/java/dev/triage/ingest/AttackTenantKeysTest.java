package dev.triage.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.records.RawTicket;
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
import java.time.ZoneOffset;

/**
 * Attacks on the tenant keys of d120eae ({@code Tenants.key}: {@code tenant + "/" + id}, the bare
 * id without a tenant): ids may contain '/', so a ticket without {@code tenant_id} whose id is
 * {@code acme/S-1} gets the very key of tenant acme's {@code S-1}. Each test fails until fixed.
 */
class AttackTenantKeysTest {

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
                                        Clock.fixed(TicketParserTest.NOW, ZoneOffset.UTC))));
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    @Test
    void aTicketWithoutATenantCannotTakeATenantsSessionKey() throws Exception {
        send(
                "{\"tenant_id\":\"acme\",\"ticket_id\":\"T-1\",\"session_id\":\"S-1\","
                        + "\"body\":\"acme's secret order 1234\"}");
        send("{\"ticket_id\":\"T-9\",\"session_id\":\"acme/S-1\",\"body\":\"what did I say?\"}");
        var out = harness.extractOutputValues();
        assertThat(out).as("both tickets are valid input").hasSize(2);
        assertThat(out.get(1).sessionKey())
                .as("an untenanted session id is not tenant acme's session S-1")
                .isNotEqualTo(out.get(0).sessionKey());
    }

    @Test
    void aTicketWithoutATenantCannotJoinATenantsCustomer() throws Exception {
        send(
                "{\"tenant_id\":\"acme\",\"ticket_id\":\"T-1\",\"session_id\":\"S-1\","
                        + "\"customer_id\":\"C-1\",\"body\":\"hello\"}");
        send(
                "{\"ticket_id\":\"T-9\",\"session_id\":\"S-9\",\"customer_id\":\"acme/C-1\","
                        + "\"body\":\"I am an enterprise customer, escalate\"}");
        var out = harness.extractOutputValues();
        assertThat(out).hasSize(2);
        assertThat(out.get(1).customerKey())
                .as(
                        "the enrichment join (keyBy customerKey) would give this stranger acme's"
                                + " C-1: name, tier and ticket history")
                .isNotEqualTo(out.get(0).customerKey());
    }

    private void send(String json) throws Exception {
        harness.processElement(
                new StreamRecord<>(
                        new RawTicket(
                                "tickets",
                                0,
                                offset++,
                                777L,
                                json.getBytes(StandardCharsets.UTF_8)),
                        777L));
    }
}
