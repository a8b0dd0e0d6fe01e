package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

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

        FakeLlmClient llm = FakeLlmClient.get(clientId);
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

        FakeLlmClient llm = FakeLlmClient.get(clientId);
        assertThat(llm.calls).hasSize(2);
        // S-2 answers first although S-1 is still busy.
        llm.calls.get(1).answer(answer("other", "S-2 answered"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        assertThat(harness.extractOutputValues().get(0).sessionId()).isEqualTo("S-2");
        assertThat(llm.calls).hasSize(2); // S-1's second ticket still waits for its first
    }

    @Test
    void callsInFlightNeverExceedTheLimitAndTheInputIsBackpressured() throws Exception {
        harness = open(settings(2), null);
        FakeLlmClient llm = FakeLlmClient.get(clientId);
        harness.processElement(record(ticket("S-1", "T-1", "one")));
        harness.processElement(record(ticket("S-2", "T-2", "two")));
        assertThat(llm.calls).hasSize(2);

        // The third session must wait for a free slot: answer S-1 from another thread later.
        Thread answerer =
                new Thread(
                        () -> {
                            sleep(200);
                            llm.calls.get(0).answer(answer("other", "one done"));
                        });
        answerer.start();
        long start = System.nanoTime();
        harness.processElement(record(ticket("S-3", "T-3", "three")));
        long blockedMillis = (System.nanoTime() - start) / 1_000_000;
        answerer.join();

        assertThat(blockedMillis).isGreaterThanOrEqualTo(150);
        assertThat(llm.calls).hasSize(3);
        assertThat(llm.maxInFlight.get()).isEqualTo(2);
        assertThat(llm.calls.get(0).future().isDone()).isTrue();
    }

    @Test
    void idleSessionStateExpiresAfterTheTtl() throws Exception {
        harness = open(settings(8), null);
        harness.setStateTtlProcessingTime(0);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        FakeLlmClient llm = FakeLlmClient.get(clientId);
        llm.calls.get(0).answer(answer("other", "first answer"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        assertThat(harness.numKeyedStateEntries()).isGreaterThan(0);

        harness.setStateTtlProcessingTime(Duration.ofHours(2).toMillis());
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
        FakeLlmClient llm = FakeLlmClient.get(clientId);
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
        FakeLlmClient llm = FakeLlmClient.get(clientId);
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
        FakeLlmClient llm = FakeLlmClient.get(clientId);
        llm.calls.get(0).fail(503, true);
        runMailsUntil(() -> llm.calls.size() == 2);
        assertThat(llm.calls.get(1).lastUserMessage()).contains("T-1");

        llm.calls.get(1).answer(answer("other", "after retry"));
        runMailsUntil(() -> llm.calls.size() == 3);
        assertThat(harness.extractOutputValues().get(0).attempts()).isEqualTo(2);
        assertThat(llm.calls.get(2).lastUserMessage()).contains("T-2");
    }

    @Test
    void permanentFailureGoesToTheDeadLetterQueue() throws Exception {
        harness = open(settings(8), null);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        FakeLlmClient llm = FakeLlmClient.get(clientId);
        llm.calls.get(0).fail(401, false);
        runMailsUntil(() -> deadLetters().size() == 1);
        assertThat(deadLetters().get(0).reason()).isEqualTo("llm_rejected");
        assertThat(deadLetters().get(0).detail()).contains("401");
        assertThat(llm.calls).hasSize(1);
    }

    @Test
    void restoreResendsInFlightTicketsOnceAndKeepsWaitingOnesInOrder() throws Exception {
        harness = open(settings(8), null);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        FakeLlmClient llm = FakeLlmClient.get(clientId);
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
        FakeLlmClient restored = FakeLlmClient.get(restoredId);
        assertThat(restored.calls).hasSize(2);
        assertThat(restored.calls)
                .extracting(FakeLlmClient.Call::lastUserMessage)
                .anySatisfy(m -> assertThat(m).contains("T-2"))
                .anySatisfy(m -> assertThat(m).contains("T-4"));
        FakeLlmClient.Call t2 =
                restored.calls.stream()
                        .filter(c -> c.lastUserMessage().contains("T-2"))
                        .findFirst()
                        .get();
        assertThat(t2.allText()).contains("answer one");
        t2.answer(answer("other", "answer two"));
        runMailsUntil(() -> restored.calls.size() == 3);
        assertThat(restored.calls.get(2).lastUserMessage()).contains("T-3");
        assertThat(restored.calls.get(2).allText()).contains("answer one").contains("answer two");
        restored.calls.get(2).answer(answer("other", "answer three"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 2);
        List<TriageResult> out = harness.extractOutputValues();
        assertThat(out).extracting(TriageResult::turn).containsExactly(2, 3);
        assertThat(out.get(0).attempts()).isEqualTo(2); // one call lost with the old process
    }

    @Test
    void aTicketIdSeenBeforeInTheSessionIsNotSentToTheModelAgain() throws Exception {
        harness = open(settings(8), null);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        harness.processElement(record(ticket("S-1", "T-1", "first, re-sent while in flight")));
        FakeLlmClient llm = FakeLlmClient.get(clientId);
        llm.calls.get(0).answer(answer("other", "answered once"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        harness.processElement(record(ticket("S-1", "T-1", "first, re-sent after the answer")));
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
