package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.records.DeadLetter;
import dev.triage.records.TriageResult;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.Test;

import java.util.UUID;

/** Attacks on the operator's rebuild as collaborators (issue 13): behaviour must not change. */
class AttackRebuildTest extends SessionOperatorTestBase {

    /** One call of each kind that ends a call: every one must give its permit back. */
    @Test
    void everyKindOfCompletionGivesItsPermitBackExactlyOnce() throws Exception {
        gatewaySettings = gateway(true, false);
        harness = open(settings(1), null);
        FakeLlmClient primary = fake(clientId);
        FakeLlmClient fallback = fallback(clientId);
        // rejected by both endpoints, repaired, retried after a 503, answered by the fallback
        harness.processElement(record(ticket("S-1", "T-1", "rejected")));
        harness.processElement(record(ticket("S-2", "T-2", "repaired")));
        harness.processElement(record(ticket("S-3", "T-3", "retried")));
        harness.processElement(record(ticket("S-4", "T-4", "fallback")));
        harness.processElement(record(ticket("S-5", "T-5", "plain")));
        runMailsUntil(
                () -> {
                    answerPending(primary, true);
                    answerPending(fallback, false);
                    return harness.extractOutputValues().size() + deadLetters().size() == 5;
                });
        assertThat(primary.maxInFlight.get() + fallback.maxInFlight.get())
                .as("one call at a time per subtask (settings(1))")
                .isLessThanOrEqualTo(2);
        assertThat(deadLetters()).extracting(DeadLetter::ticketId).containsExactly("T-1");
        assertThat(harness.extractOutputValues())
                .extracting(TriageResult::ticketId)
                .containsExactlyInAnyOrder("T-2", "T-3", "T-4", "T-5");
        SessionTriageOperator op = (SessionTriageOperator) harness.getOperator();
        assertThat(((CallPermits) field(op, "permits")).inFlight()).isZero();
        assertThat(((Dispatcher) field(op, "dispatcher")).pending()).isZero();
        assertThat(((Dispatcher) field(op, "dispatcher")).idle()).isTrue();
    }

    /** Answers each unsettled call by what its ticket is for in the test above. */
    private static void answerPending(FakeLlmClient llm, boolean isPrimary) {
        for (FakeLlmClient.Call c : llm.calls) {
            if (c.settled().get()) {
                continue;
            }
            String text = c.lastUserMessage();
            long callsOfTicket =
                    llm.calls.stream()
                            .filter(o -> o.lastUserMessage().contains(ticketOf(text)))
                            .count();
            if (text.contains("T-1")) {
                c.fail(400, false);
            } else if (text.contains("T-2") && c.assistantMessages() == 0) {
                c.answerRaw("not json at all");
            } else if (text.contains("T-3") && callsOfTicket == 1) {
                c.fail(503, true);
            } else if (text.contains("T-4") && isPrimary) {
                c.fail(401, false);
            } else {
                c.answer(answer("other", "answered"));
            }
        }
    }

    private static String ticketOf(String text) {
        for (String id : new String[] {"T-1", "T-2", "T-3", "T-4", "T-5"}) {
            if (text.contains(id)) {
                return id;
            }
        }
        return "?";
    }

    /**
     * A retry whose backoff is still running when the bounded input ends: finish() quiesces the
     * processing-time timers, so the retry must fire on the late timer and be answered.
     */
    @Test
    void aBackoffRunningAtTheEndOfInputStillFiresAndItsTicketIsAnswered() throws Exception {
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        harness.processElement(record(ticket("S-1", "T-1", "fails once")));
        llm.calls.get(0).fail(503, true);
        runReadyMails();
        assertThat(llm.calls).hasSize(1); // the retry waits for its backoff

        var h = harness;
        harness = null;
        closeAfterAnsweringAll(h, clientId);
        assertThat(llm.calls).hasSize(2);
        assertThat(h.extractOutputValues())
                .extracting(TriageResult::ticketId)
                .containsExactly("T-1");
    }

    /**
     * A restore onto a clock that stepped back (a new host behind the old one): the ticket's retry
     * time lies in the "future" of the new clock, and it is still sent once that comes.
     */
    @Test
    void aRetryRestoredOntoAClockThatSteppedBackIsSentOnceItsTimeComes() throws Exception {
        long earlier = startClock;
        startClock = 100_000;
        try {
            harness = open(settings(8), null);
            FakeLlmClient llm = fake(clientId);
            harness.processElement(record(ticket("S-1", "T-1", "fails once")));
            llm.calls.get(0).fail(503, true);
            runReadyMails();
            OperatorSubtaskState snapshot = harness.snapshot(1L, 1L);
            closeAfterAnsweringAll(harness, clientId);

            startClock = 90_000;
            String restoredId = UUID.randomUUID().toString();
            harness = open(settings(8), snapshot, restoredId);
            currentClient = restoredId;
            FakeLlmClient restored = fake(restoredId);
            assertThat(restored.calls).as("its retry is not due on the new clock").isEmpty();
            runMailsUntil(() -> restored.calls.size() == 1);
            assertThat(harness.getProcessingTime()).isGreaterThanOrEqualTo(100_000);
            restored.calls.get(0).answer(answer("other", "after the restore"));
            runMailsUntil(() -> harness.extractOutputValues().size() == 1);
            assertThat(harness.extractOutputValues().get(0).ticketId()).isEqualTo("T-1");
        } finally {
            startClock = earlier;
        }
    }

    private static Object field(Object target, String name) throws Exception {
        var f = target.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(target);
    }
}
