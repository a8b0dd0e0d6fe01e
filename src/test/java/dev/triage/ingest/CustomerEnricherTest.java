package dev.triage.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.config.CustomerSettings;
import dev.triage.records.CustomerEvent;
import dev.triage.records.CustomerProfile;
import dev.triage.records.PastTicket;
import dev.triage.records.Ticket;
import dev.triage.session.PriorityRules;
import dev.triage.testing.TestSettings;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

class CustomerEnricherTest {

    private static final CustomerProfile ADA =
            new CustomerProfile("C-1", "Ada", "gold", "pro", "en");

    private static final CustomerSettings SETTINGS =
            TestSettings.yaml(
                            """
                            customers:
                              enabled: true
                              profile-wait: 2s
                              history-size: 2
                              history-ttl: 30d
                              high-tiers: gold
                              repeat-contacts: 3
                              repeat-window: 24h
                            """)
                    .customers();

    private KeyedTwoInputStreamOperatorTestHarness<String, Ticket, CustomerEvent, Ticket> harness;

    @BeforeEach
    void open() throws Exception {
        harness = harness(new CustomerEnricher(SETTINGS));
        harness.open();
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, Ticket, CustomerEvent, Ticket>
            harness(CustomerEnricher enricher) throws Exception {
        var h =
                new KeyedTwoInputStreamOperatorTestHarness<>(
                        new KeyedCoProcessOperator<>(enricher),
                        Ticket::customerId,
                        CustomerEvent::customerId,
                        Types.STRING);
        h.setProcessingTime(0);
        return h;
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
    void aProfileThatArrivesDeletesTheWaitTimer() throws Exception {
        harness.processElement1(new StreamRecord<>(ticket("T-1")));
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        harness.setProcessingTime(500);
        harness.processElement2(new StreamRecord<>(CustomerEvent.profile(ADA)));
        assertThat(out()).extracting(Ticket::ticketId).containsExactly("T-1");
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void aStaleTimerDoesNotCutTheNextWaitShort() throws Exception {
        harness.processElement1(new StreamRecord<>(ticket("T-1"))); // waits until 2000
        harness.setProcessingTime(500);
        harness.processElement2(new StreamRecord<>(CustomerEvent.profile(ADA)));
        harness.processElement2(new StreamRecord<>(CustomerEvent.deleted("C-1")));
        harness.setProcessingTime(1000);
        harness.processElement1(new StreamRecord<>(ticket("T-2"))); // waits until 3000
        harness.setProcessingTime(2999);
        assertThat(out()).extracting(Ticket::ticketId).containsExactly("T-1");
        harness.setProcessingTime(3000);
        assertThat(out()).extracting(Ticket::ticketId).containsExactly("T-1", "T-2");
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void aFloodForOneUnknownCustomerWritesStateOncePerTicket() throws Exception {
        harness.close();
        AtomicLong written = new AtomicLong();
        harness = harness(new StateWriteCountingEnricher(SETTINGS, written));
        harness.open();
        int flood = 2_000;
        for (int i = 0; i < flood; i++) {
            harness.processElement1(new StreamRecord<>(ticket("T-" + i)));
        }
        // One appended ticket (plus small bookkeeping) per ticket, not the whole waiting list.
        assertThat(written.get()).isLessThanOrEqualTo(3L * flood);
        harness.setProcessingTime(2000);
        assertThat(out()).hasSize(flood);
        assertThat(out().get(0).ticketId()).isEqualTo("T-0");
        assertThat(out().get(flood - 1).ticketId()).isEqualTo("T-" + (flood - 1));
    }

    @Test
    void ticketsWaitingInTheLayoutOfVersion01AreReleasedInOrderAfterARestore() throws Exception {
        harness.close();
        var old = harness(new Version01Waiting());
        old.open();
        old.processElement1(new StreamRecord<>(ticket("T-1")));
        old.processElement1(new StreamRecord<>(ticket("T-2")));
        var snapshot = old.snapshot(1L, 1L);
        old.close();

        harness = harness(new CustomerEnricher(SETTINGS));
        harness.initializeState(snapshot);
        harness.open();
        harness.processElement1(new StreamRecord<>(ticket("T-3")));
        harness.setProcessingTime(1999);
        assertThat(out()).isEmpty();
        harness.setProcessingTime(2000); // the timer version 0.1 registered
        assertThat(out()).extracting(Ticket::ticketId).containsExactly("T-1", "T-2", "T-3");
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    /** Keeps a customer's waiting tickets as version 0.1 of {@link CustomerEnricher} did. */
    private static final class Version01Waiting extends CustomerEnricher {
        private static final long serialVersionUID = 1L;
        private transient ValueState<List<Ticket>> waiting;

        Version01Waiting() {
            super(SETTINGS);
        }

        @Override
        public void open(OpenContext openContext) {
            waiting =
                    getRuntimeContext()
                            .getState(
                                    new ValueStateDescriptor<>(
                                            "tickets-waiting-for-profile",
                                            new ListTypeInfo<>(Ticket.class)));
        }

        @Override
        public void processElement1(Ticket ticket, Context ctx, Collector<Ticket> out)
                throws Exception {
            List<Ticket> queue = waiting.value();
            List<Ticket> updated = queue == null ? new ArrayList<>() : new ArrayList<>(queue);
            updated.add(ticket);
            waiting.update(updated);
            if (queue == null) {
                ctx.timerService().registerProcessingTimeTimer(2000);
            }
        }
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

    /**
     * The enricher with its state handles wrapped: counts the elements each write stores (a list
     * written whole counts its size), as the state backend would serialize them.
     */
    private static final class StateWriteCountingEnricher extends CustomerEnricher {
        private static final long serialVersionUID = 1L;
        private final transient AtomicLong written;

        StateWriteCountingEnricher(CustomerSettings settings, AtomicLong written) {
            super(settings);
            this.written = written;
        }

        @Override
        public RuntimeContext getRuntimeContext() {
            RuntimeContext real = super.getRuntimeContext();
            InvocationHandler context =
                    (proxy, method, args) -> {
                        Object result = method.invoke(real, args);
                        if (method.getName().startsWith("get")
                                && method.getName().endsWith("State")
                                && method.getReturnType().isInterface()) {
                            return countingWrites(result, method.getReturnType());
                        }
                        return result;
                    };
            return (RuntimeContext)
                    Proxy.newProxyInstance(
                            RuntimeContext.class.getClassLoader(),
                            new Class<?>[] {RuntimeContext.class},
                            context);
        }

        private Object countingWrites(Object state, Class<?> type) {
            InvocationHandler handler =
                    (proxy, method, args) -> {
                        switch (method.getName()) {
                            case "update", "add", "addAll", "put", "putAll" -> {
                                Object value = args[args.length - 1];
                                written.addAndGet(
                                        value instanceof Collection<?> c
                                                ? c.size()
                                                : value instanceof java.util.Map<?, ?> m
                                                        ? m.size()
                                                        : 1);
                            }
                            default -> {}
                        }
                        return method.invoke(state, args);
                    };
            return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler);
        }
    }
}
