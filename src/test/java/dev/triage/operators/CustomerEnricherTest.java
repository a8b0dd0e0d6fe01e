package dev.triage.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.config.CustomerSettings;
import dev.triage.records.CustomerEvent;
import dev.triage.records.CustomerProfile;
import dev.triage.records.PastTicket;
import dev.triage.records.Ticket;
import dev.triage.session.PriorityRules;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

class CustomerEnricherTest {

    private static final CustomerProfile ADA =
            new CustomerProfile("C-1", "Ada", "gold", "pro", "en");

    private KeyedTwoInputStreamOperatorTestHarness<String, Ticket, CustomerEvent, Ticket> harness;

    @BeforeEach
    void open() throws Exception {
        CustomerSettings settings =
                new CustomerSettings(
                        true,
                        Duration.ofSeconds(2),
                        2,
                        Duration.ofDays(30),
                        List.of("gold"),
                        3,
                        Duration.ofHours(24));
        harness =
                new KeyedTwoInputStreamOperatorTestHarness<>(
                        new KeyedCoProcessOperator<>(new CustomerEnricher(settings)),
                        Ticket::customerId,
                        CustomerEvent::customerId,
                        Types.STRING);
        harness.setProcessingTime(0);
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private static Ticket ticket(String id) {
        return new Ticket(id, "S-" + id, "C-1", "email", null, "body " + id, 1000L, "t", 0, 0L);
    }

    private List<Ticket> out() {
        return harness.extractOutputValues();
    }

    @Test
    void aKnownCustomersTicketLeavesAtOnceWithTheProfile() throws Exception {
        harness.processElement2(new StreamRecord<>(CustomerEvent.profile(ADA)));
        harness.processElement1(new StreamRecord<>(ticket("T-1")));
        assertThat(out()).hasSize(1);
        assertThat(out().get(0).customer().profile()).isEqualTo(ADA);
    }

    @Test
    void ticketsWaitForALateProfileInOrder() throws Exception {
        harness.processElement1(new StreamRecord<>(ticket("T-1")));
        harness.processElement1(new StreamRecord<>(ticket("T-2")));
        harness.setProcessingTime(1500);
        assertThat(out()).isEmpty();
        harness.processElement2(new StreamRecord<>(CustomerEvent.profile(ADA)));
        assertThat(out()).extracting(Ticket::ticketId).containsExactly("T-1", "T-2");
        assertThat(out()).allSatisfy(t -> assertThat(t.customer().profile()).isEqualTo(ADA));
        harness.setProcessingTime(5000); // the timer finds nothing left to release
        assertThat(out()).hasSize(2);
    }

    @Test
    void withoutAProfileTicketsGoOnAfterTheWaitAndAreNotHeldForever() throws Exception {
        harness.processElement1(new StreamRecord<>(ticket("T-1")));
        harness.setProcessingTime(1999);
        assertThat(out()).isEmpty();
        harness.setProcessingTime(2000);
        assertThat(out()).extracting(Ticket::ticketId).containsExactly("T-1");
        assertThat(out().get(0).customer()).isNotNull();
        assertThat(out().get(0).customer().profile()).isNull();
    }

    @Test
    void theHistoryKeepsTheMostRecentTicketsOnceEach() throws Exception {
        harness.processElement2(new StreamRecord<>(CustomerEvent.profile(ADA)));
        for (int i = 1; i <= 3; i++) {
            harness.processElement2(
                    new StreamRecord<>(
                            CustomerEvent.outcome(
                                    "C-1",
                                    new PastTicket(
                                            "P-" + i, "S", "billing", "normal", "neutral", i))));
        }
        harness.processElement2(
                new StreamRecord<>(
                        CustomerEvent.outcome(
                                "C-1",
                                new PastTicket("P-3", "S", "billing", "normal", "neutral", 3))));
        harness.processElement1(new StreamRecord<>(ticket("T-9")));
        assertThat(out().get(0).customer().recent())
                .extracting(PastTicket::ticketId)
                .containsExactly("P-2", "P-3");
    }

    @Test
    void aTombstoneDeletesTheProfile() throws Exception {
        harness.processElement2(new StreamRecord<>(CustomerEvent.profile(ADA)));
        harness.processElement2(new StreamRecord<>(CustomerEvent.deleted("C-1")));
        harness.processElement1(new StreamRecord<>(ticket("T-1")));
        assertThat(out()).isEmpty();
        harness.setProcessingTime(2000);
        assertThat(out().get(0).customer().profile()).isNull();
    }

    @Test
    void priorityRulesRaiseForHighTiersAndRepeatContacts() {
        PriorityRules rules = new PriorityRules(List.of("gold"), 3, 86_400_000L);
        var gold = new dev.triage.records.CustomerContext(ADA, List.of());
        assertThat(rules.apply("normal", "negative", gold, 0)).isEqualTo("high");
        assertThat(rules.apply("high", "negative", gold, 0)).isEqualTo("urgent");
        assertThat(rules.apply("urgent", "negative", gold, 0)).isEqualTo("urgent");
        assertThat(rules.apply("normal", "neutral", gold, 0)).isEqualTo("normal");
        var bronze =
                new dev.triage.records.CustomerContext(
                        new CustomerProfile("C-2", "Bo", "bronze", null, null), List.of());
        assertThat(rules.apply("normal", "negative", bronze, 0)).isEqualTo("normal");
        long now = 100_000_000L;
        List<PastTicket> three =
                List.of(
                        new PastTicket("A", "S", "x", "low", "neutral", now - 1000),
                        new PastTicket("B", "S", "x", "low", "neutral", now - 2000),
                        new PastTicket("C", "S", "x", "low", "neutral", now - 3000));
        var repeat = new dev.triage.records.CustomerContext(null, three);
        assertThat(rules.apply("low", "neutral", repeat, now)).isEqualTo("high");
        assertThat(rules.apply("low", "neutral", repeat, now + 86_400_000L)).isEqualTo("low");
        assertThat(rules.apply("low", "negative", null, now)).isEqualTo("low");
        assertThat(PriorityRules.NONE.apply("low", "negative", gold, now)).isEqualTo("low");
    }
}
