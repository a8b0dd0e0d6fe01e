package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.llm.TriageAnswer;
import dev.triage.records.DeadLetter;
import dev.triage.records.TriageResult;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

class SessionTriageOperatorTest extends SessionOperatorTestBase {

    @Test
    void queuesSecondTicketUntilFirstIsAnswered() throws Exception {
        harness = open(settings(8), null);
        harness.processElement(record(ticket("S-1", "T-1", "I was charged twice.")));
        harness.processElement(record(ticket("S-1", "T-2", "Any update?")));

        FakeLlmClient llm = fake(clientId);
        assertThat(llm.calls).hasSize(1);
        assertThat(llm.calls.get(0).lastUserMessage()).contains("T-1");

        llm.calls.get(0).answer(answer("billing", "Customer was charged twice."));
        runMailsUntil(() -> llm.calls.size() == 2);

        FakeLlmClient.Call second = llm.calls.get(1);
        assertThat(second.lastUserMessage()).contains("T-2").contains("Any update?");
        assertThat(second.assistantMessages()).isEqualTo(1);
        assertThat(second.allText())
                .contains("Customer was charged twice.")
                .contains("I was charged twice.");

        second.answer(answer("billing", "Customer asks for an update."));
        runMailsUntil(() -> harness.extractOutputValues().size() == 2);
        List<TriageResult> results = harness.extractOutputValues();
        assertThat(results).extracting(TriageResult::ticketId).containsExactly("T-1", "T-2");
        assertThat(results).extracting(TriageResult::turn).containsExactly(1, 2);
        assertThat(results.get(1).attempts()).isEqualTo(1);
    }

    @Test
    void otherSessionsAreNotHeldUpByABusySession() throws Exception {
        harness = open(settings(8), null);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        harness.processElement(record(ticket("S-1", "T-2", "second of S-1")));
        harness.processElement(record(ticket("S-2", "T-3", "first of S-2")));

        FakeLlmClient llm = fake(clientId);
        assertThat(llm.calls).hasSize(2);
        // S-2 answers first although S-1 is still busy.
        llm.calls.get(1).answer(answer("other", "S-2 answered"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        assertThat(harness.extractOutputValues().get(0).sessionId()).isEqualTo("S-2");
        assertThat(llm.calls).hasSize(2); // S-1's second ticket still waits for its first
    }

    @Test
    void callsInFlightNeverExceedTheLimitAndTheInputIsBackpressured() throws Exception {
        harness = open(settings(2, 0), null);
        FakeLlmClient llm = fake(clientId);
        harness.processElement(record(ticket("S-1", "T-1", "one")));
        harness.processElement(record(ticket("S-2", "T-2", "two")));
        assertThat(llm.calls).hasSize(2);

        // S-1's answer arrives: its completion waits in the mailbox, both slots still count.
        llm.calls.get(0).answer(answer("other", "one done"));
        assertThat(harness.extractOutputValues()).isEmpty();

        // The third session finds no free slot and no backlog: processElement does not return
        // until the completion has run in it, freed a slot and sent S-3.
        harness.processElement(record(ticket("S-3", "T-3", "three")));
        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(llm.calls).hasSize(3);
        assertThat(llm.calls.get(2).lastUserMessage()).contains("T-3");
        assertThat(llm.maxInFlight.get()).isEqualTo(2);
    }

    @Test
    void aResultFlagsItsDraftReplyAgainstTheTicketsOwnText() throws Exception {
        harness = open(settings(8), null);
        harness.processElement(
                record(ticket("S-1", "T-1", "Please call me back at +44 20 7946 0958.")));
        FakeLlmClient llm = fake(clientId);
        llm.calls
                .get(0)
                .answer(
                        new TriageAnswer(
                                "other",
                                "normal",
                                "neutral",
                                "call back",
                                "We will call +44 20 7946 0958, or see <a href=x>evil.com</a>.",
                                0.9));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        // the ticket's own number is no contact detail of someone else
        assertThat(harness.extractOutputValues().get(0).draftReplyFlags())
                .containsExactly("html", "links");
    }

    @Test
    void idleSessionStateExpiresAfterTheTtl() throws Exception {
        harness = open(settings(8), null);
        harness.setProcessingTime(0);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        FakeLlmClient llm = fake(clientId);
        llm.calls.get(0).answer(answer("other", "first answer"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        assertThat(harness.numKeyedStateEntries()).isGreaterThan(0);

        harness.setProcessingTime(Duration.ofHours(2).toMillis());
        harness.processElement(record(ticket("S-1", "T-2", "back after two hours")));
        assertThat(llm.calls).hasSize(2);
        assertThat(llm.calls.get(1).assistantMessages()).isZero();
        llm.calls.get(1).answer(answer("other", "fresh"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 2);
        assertThat(harness.extractOutputValues().get(1).turn()).isEqualTo(1);
    }

    @Test
    void anInvalidAnswerGetsOneRepairAttemptThenTheDeadLetterQueueAndTheSessionMovesOn()
            throws Exception {
        harness = open(settings(8), null);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        harness.processElement(record(ticket("S-1", "T-2", "second")));
        FakeLlmClient llm = fake(clientId);
        llm.calls.get(0).answerRaw("{\"category\":\"astrology\"}");
        runMailsUntil(() -> llm.calls.size() == 2);

        // The repair attempt shows the model its answer and what is wrong with it.
        FakeLlmClient.Call repair = llm.calls.get(1);
        assertThat(repair.messages().get(repair.messages().size() - 2).content())
                .contains("astrology");
        assertThat(repair.lastUserMessage()).contains("could not be used").contains("astrology");
        assertThat(deadLetters()).isEmpty();
        repair.answerRaw("{\"category\": \"billing\", \"priority\": ");
        runMailsUntil(() -> llm.calls.size() == 3);

        List<DeadLetter> dlq = deadLetters();
        assertThat(dlq).hasSize(1);
        assertThat(dlq.get(0).reason()).isEqualTo("llm_invalid_output");
        assertThat(dlq.get(0).ticketId()).isEqualTo("T-1");
        assertThat(dlq.get(0).detail()).contains("not valid JSON").contains("repair");
        assertThat(dlq.get(0).payload()).contains("\"body\":\"first\"");
        assertThat(dlq.get(0).llmOutput()).contains("\"priority\": ");

        llm.calls.get(2).answer(answer("other", "ok"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        assertThat(harness.extractOutputValues().get(0).turn()).isEqualTo(2);
    }

    @Test
    void aTruncatedAnswerIsRepairedIntoAResult() throws Exception {
        harness = open(settings(8), null);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        FakeLlmClient llm = fake(clientId);
        llm.calls
                .get(0)
                .reply(
                        new dev.triage.llm.LlmReply(
                                "{\"category\": \"bill", "length", null, "fake", 10, 100));
        runMailsUntil(() -> llm.calls.size() == 2);
        assertThat(llm.calls.get(1).lastUserMessage()).contains("cut off");
        llm.calls.get(1).answer(answer("billing", "repaired"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        assertThat(harness.extractOutputValues().get(0).summary()).isEqualTo("repaired");
        assertThat(harness.extractOutputValues().get(0).attempts()).isEqualTo(2);
        assertThat(deadLetters()).isEmpty();
    }

    @Test
    void retriableFailureIsRetriedWithoutLosingTheSessionsPlace() throws Exception {
        harness = open(settings(8), null);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        harness.processElement(record(ticket("S-1", "T-2", "second")));
        FakeLlmClient llm = fake(clientId);
        llm.calls.get(0).fail(503, true);
        runMailsUntil(() -> llm.calls.size() == 2);
        assertThat(llm.calls.get(1).lastUserMessage()).contains("T-1");

        llm.calls.get(1).answer(answer("other", "after retry"));
        runMailsUntil(() -> llm.calls.size() == 3);
        assertThat(harness.extractOutputValues().get(0).attempts()).isEqualTo(2);
        assertThat(llm.calls.get(2).lastUserMessage()).contains("T-2");
    }

    @Test
    void aRequestTheProviderRejectsGoesToTheDeadLetterQueue() throws Exception {
        harness = open(settings(8), null);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        FakeLlmClient llm = fake(clientId);
        llm.calls.get(0).fail(400, false);
        runMailsUntil(() -> deadLetters().size() == 1);
        assertThat(deadLetters().get(0).reason()).isEqualTo("llm_rejected");
        assertThat(deadLetters().get(0).detail()).contains("400");
        assertThat(llm.calls).hasSize(1);
    }

    @Test
    void aRejectedKeyWithoutAFallbackMakesTicketsWaitInsteadOfEmptyingTheInputIntoTheDlq()
            throws Exception {
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        for (int s = 1; s <= 5; s++) {
            harness.processElement(record(ticket("S-" + s, "T-" + s, "ticket " + s)));
        }
        llm.calls.forEach(c -> c.fail(401, false));
        // The circuit is open (for breaker.max-open-for): one probe at a time, no dead letter.
        runMailsUntil(() -> llm.calls.size() == 6);
        assertThat(deadLetters()).isEmpty();
        llm.calls.get(5).fail(401, false);
        runMailsUntil(() -> llm.calls.size() == 7);
        assertThat(deadLetters()).isEmpty();
        // The key is fixed: the probe succeeds and every ticket is answered.
        while (harness.extractOutputValues().size() < 5) {
            llm.calls.forEach(c -> c.answer(answer("other", "ok")));
            int answered = harness.extractOutputValues().size();
            runMailsUntil(
                    () ->
                            harness.extractOutputValues().size() > answered
                                    || llm.calls.stream().anyMatch(c -> !c.future().isDone()));
        }
        assertThat(deadLetters()).isEmpty();
        assertThat(harness.extractOutputValues())
                .extracting(TriageResult::ticketId)
                .containsExactlyInAnyOrder("T-1", "T-2", "T-3", "T-4", "T-5");
    }

    @Test
    void aTicketIdReusedWithOtherContentGetsADeadLetterInsteadOfVanishing() throws Exception {
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        harness.processElement(record(ticket("S-1", "T-1", "my card was charged twice")));
        harness.processElement(record(ticket("S-1", "T-1", "and now I cannot log in")));
        assertThat(deadLetters()).hasSize(1);
        assertThat(deadLetters().get(0).reason()).isEqualTo("duplicate_ticket_id");
        assertThat(deadLetters().get(0).payload()).contains("cannot log in");
        llm.calls.get(0).answer(answer("billing", "charged twice"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        assertThat(llm.calls).hasSize(1);
    }

    @Test
    void aDeadLetteredTicketSentAgainIsTriagedNotDroppedAsADuplicate() throws Exception {
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        llm.calls.get(0).fail(400, false);
        runMailsUntil(() -> deadLetters().size() == 1);
        // The operator fixed the cause and re-sends the ticket from the DLQ.
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        assertThat(llm.calls).hasSize(2);
        llm.calls.get(1).answer(answer("other", "answered the second time"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        assertThat(harness.extractOutputValues().get(0).ticketId()).isEqualTo("T-1");
    }

    @Test
    void restoreResendsInFlightTicketsOnceAndKeepsWaitingOnesInOrder() throws Exception {
        harness = open(settings(8), null);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        FakeLlmClient llm = fake(clientId);
        llm.calls.get(0).answer(answer("other", "answer one"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        harness.processElement(record(ticket("S-1", "T-2", "second")));
        harness.processElement(record(ticket("S-1", "T-3", "third")));
        harness.processElement(record(ticket("S-2", "T-4", "other session")));
        assertThat(llm.calls).hasSize(3);
        OperatorSubtaskState snapshot = harness.snapshot(1L, 1L);
        closeAfterAnsweringAll(harness, clientId);

        // A new process: the calls of T-2 and T-4 were lost with the old one.
        String restoredId = UUID.randomUUID().toString();
        harness = open(settings(8), snapshot, restoredId);
        currentClient = restoredId;
        FakeLlmClient restored = fake(restoredId);
        // Nothing is known about the provider after a restore: one probe first, then the rest.
        assertThat(restored.calls).hasSize(1);
        restored.calls.get(0).fail(503, true);
        runMailsUntil(() -> restored.calls.size() == 2);
        assertThat(unanswered(restored))
                .as("a failed probe: still one call at a time")
                .isEqualTo(1);
        restored.calls.get(1).answer(answer("other", "probe answered"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        FakeLlmClient.Call t2 = lastCallFor(restored, "T-2");
        if (t2.future().isDone()) {
            // T-2 was the probe; T-3 follows it.
            runMailsUntil(() -> lastCallFor(restored, "T-3") != null);
        } else {
            assertThat(t2.allText()).contains("answer one");
            t2.answer(answer("other", "probe answered"));
            runMailsUntil(() -> lastCallFor(restored, "T-3") != null);
        }
        assertThat(lastCallFor(restored, "T-2").allText()).contains("answer one");
        FakeLlmClient.Call t3 = lastCallFor(restored, "T-3");
        assertThat(t3.allText()).contains("answer one").contains("probe answered");
        restored.calls.forEach(c -> c.answer(answer("other", "answer three")));
        runMailsUntil(() -> harness.extractOutputValues().size() == 3);
        List<TriageResult> s1 =
                harness.extractOutputValues().stream()
                        .filter(r -> r.sessionId().equals("S-1"))
                        .toList();
        assertThat(s1).extracting(TriageResult::turn).containsExactly(2, 3);
        assertThat(s1.get(0).attempts())
                .isGreaterThanOrEqualTo(2); // one call lost with the old process
        assertThat(restored.calls.stream().filter(c -> c.lastUserMessage().contains("T-2")))
                .as("T-2 asked at most twice after the restore (a failed probe)")
                .hasSizeLessThanOrEqualTo(2);
    }

    private static long unanswered(FakeLlmClient llm) {
        return llm.calls.stream().filter(c -> !c.future().isDone()).count();
    }

    @Test
    void aTicketIdSeenBeforeInTheSessionIsNotSentToTheModelAgain() throws Exception {
        harness = open(settings(8), null);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        harness.processElement(record(ticket("S-1", "T-1", "first"))); // re-sent while in flight
        FakeLlmClient llm = fake(clientId);
        llm.calls.get(0).answer(answer("other", "answered once"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        harness.processElement(record(ticket("S-1", "T-1", "first"))); // re-sent after the answer
        harness.processElement(record(ticket("S-2", "T-1", "same id, other session")));

        assertThat(llm.calls).hasSize(2);
        assertThat(llm.calls.get(1).lastUserMessage()).contains("other session");
        llm.calls.get(1).answer(answer("other", "S-2 answered"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 2);
        assertThat(harness.extractOutputValues())
                .extracting(TriageResult::sessionId)
                .containsExactly("S-1", "S-2");
        assertThat(deadLetters()).isEmpty();
    }
}
