package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.records.TriageResult;
import dev.triage.testing.TestSettings;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

/** The operator with the gateway: outages, the fallback, the backlog and the incident cache. */
class GatewayBehaviourTest extends SessionOperatorTestBase {

    @Test
    void anOutageMakesTicketsWaitForTheProviderInsteadOfFillingTheDeadLetterQueue()
            throws Exception {
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        for (int s = 1; s <= 4; s++) {
            harness.processElement(record(ticket("S-" + s, "T-" + s, "ticket " + s)));
        }
        assertThat(llm.calls).hasSize(4);
        // Four failures of eight calls open the circuit (see gateway(...)).
        llm.calls.forEach(c -> c.fail(503, true));
        runMailsUntil(() -> llm.calls.size() == 5);

        // While it is open, one probe at a time; failed probes use up no ticket's budget:
        // the probed ticket goes well past its 3 attempts and still does not reach the DLQ.
        for (int probe = 5; probe <= 9; probe++) {
            assertThat(unanswered(llm)).as("only the probe is out").isEqualTo(1);
            llm.calls.get(probe - 1).fail(503, true);
            int next = probe + 1;
            runMailsUntil(() -> llm.calls.size() == next);
        }
        assertThat(deadLetters()).isEmpty();

        // The provider is back: the probe succeeds, the circuit closes, and the rest go out,
        // ramping up from the minimum concurrency rather than all at once.
        llm.calls.get(9).answer(answer("other", "back"));
        runMailsUntil(() -> llm.calls.size() >= 11);
        assertThat(unanswered(llm)).as("slow start after the outage").isLessThan(3);
        while (harness.extractOutputValues().size() < 4) {
            llm.calls.forEach(c -> c.answer(answer("other", "done")));
            int answered = harness.extractOutputValues().size();
            runMailsUntil(
                    () -> harness.extractOutputValues().size() > answered || unanswered(llm) > 0);
        }
        assertThat(deadLetters()).isEmpty();
        assertThat(harness.extractOutputValues())
                .extracting(TriageResult::ticketId)
                .containsExactlyInAnyOrder("T-1", "T-2", "T-3", "T-4");
    }

    @Test
    void whenTheProviderIsHealthyATicketThatKeepsFailingReachesTheDeadLetterQueue()
            throws Exception {
        harness = open(settings(16), null);
        FakeLlmClient llm = fake(clientId);
        // The endpoint has answered 200 calls in a row: healthy, so max-attempts (3) failures
        // in a row are no chance (with a flaky endpoint, more are needed: see below).
        for (int i = 0; i < 200; i++) {
            harness.processElement(record(ticket("S-w" + i, "T-w" + i, "warm-up " + i)));
            llm.calls.get(llm.calls.size() - 1).answer(answer("other", "ok"));
            runReadyMails();
        }
        llm.calls.clear();
        harness.processElement(record(ticket("S-1", "T-1", "poison")));
        // Other sessions succeed meanwhile, so the circuit stays closed.
        for (int s = 2; s <= 9; s++) {
            harness.processElement(record(ticket("S-" + s, "T-" + s, "fine")));
        }
        for (int s = 1; s < 6; s++) {
            llm.calls.get(s).answer(answer("other", "ok"));
        }
        for (int attempt = 1; attempt <= 3; attempt++) {
            FakeLlmClient.Call call = lastCallFor(llm, "T-1");
            // Another call is answered while this one is out: the provider is up, so the failure
            // is this ticket's (with nothing else answered it would wait, as in an outage).
            harness.setProcessingTime(harness.getProcessingTime() + 1);
            lastCallFor(llm, "T-" + (5 + attempt)).answer(answer("other", "ok"));
            runReadyMails();
            call.fail(500, true);
            if (attempt < 3) {
                int before = llm.calls.size();
                runMailsUntil(() -> llm.calls.size() > before);
            }
        }
        runMailsUntil(() -> deadLetters().size() == 1);
        assertThat(deadLetters().get(0).reason()).isEqualTo("llm_unavailable");
        assertThat(deadLetters().get(0).detail())
                .contains("after 3 call(s), 3 of them counted against the ticket");
    }

    @Test
    void aSparseOutageTheBreakerCannotSeeNeverDeadLettersALoneTicket() throws Exception {
        // Found by the simulation (seed 9): one ticket, one call at a time, an outage. Before, its
        // first max-attempts failures counted while the breaker's window was still filling, and
        // the outage dead-lettered it. Nothing else is answered while its calls are out, so
        // nothing shows the provider is up: it waits, however many calls fail.
        harness = open(settings(16), null);
        FakeLlmClient llm = fake(clientId);
        harness.processElement(record(ticket("S-1", "T-1", "hello")));
        for (int failed = 1; failed <= 12; failed++) {
            int before = llm.calls.size();
            harness.setProcessingTime(harness.getProcessingTime() + 5);
            llm.calls.get(before - 1).fail(503, true);
            runMailsUntil(() -> llm.calls.size() > before || !deadLetters().isEmpty());
        }
        assertThat(deadLetters()).isEmpty();
        llm.calls.get(llm.calls.size() - 1).answer(answer("other", "back"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        assertThat(harness.extractOutputValues().get(0).attempts()).isEqualTo(13);
    }

    @Test
    void aTicketThePrimaryRejectsIsAnsweredByTheFallback() throws Exception {
        gatewaySettings = gateway(true, false);
        harness = open(settings(8), null);
        FakeLlmClient primary = fake(clientId);
        FakeLlmClient fallback = fallback(clientId);
        harness.processElement(record(ticket("S-1", "T-1", "hello")));
        primary.calls.get(0).fail(401, false);
        runMailsUntil(() -> fallback.calls.size() == 1);
        fallback.calls.get(0).answer(answer("billing", "from the fallback"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        assertThat(harness.extractOutputValues().get(0).summary()).isEqualTo("from the fallback");
        assertThat(deadLetters()).isEmpty();

        // The primary rejects every request: later tickets go straight to the fallback.
        harness.processElement(record(ticket("S-2", "T-2", "next")));
        runMailsUntil(() -> fallback.calls.size() == 2);
        assertThat(primary.calls).hasSize(1);
    }

    @Test
    void aTicketBothEndpointsRejectGoesToTheDeadLetterQueueOnce() throws Exception {
        gatewaySettings = gateway(true, false);
        harness = open(settings(8), null);
        FakeLlmClient primary = fake(clientId);
        FakeLlmClient fallback = fallback(clientId);
        harness.processElement(record(ticket("S-1", "T-1", "too long")));
        primary.calls.get(0).fail(400, false);
        runMailsUntil(() -> fallback.calls.size() == 1);
        fallback.calls.get(0).fail(400, false);
        runMailsUntil(() -> deadLetters().size() == 1);
        assertThat(deadLetters().get(0).reason()).isEqualTo("llm_rejected");
        assertThat(primary.calls).hasSize(1);
    }

    @Test
    void aBacklogLetsTheOperatorTakeInputWhileNoCallSlotIsFree() throws Exception {
        harness = open(settings(1, 5), null);
        FakeLlmClient llm = fake(clientId);
        long start = System.nanoTime();
        for (int s = 1; s <= 5; s++) {
            harness.processElement(record(ticket("S-" + s, "T-" + s, "ticket " + s)));
        }
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(1000);
        assertThat(llm.calls).hasSize(1);
        for (int i = 0; i < 5; i++) {
            llm.calls.get(i).answer(answer("other", "ok"));
            int next = i + 2;
            if (i < 4) {
                runMailsUntil(() -> llm.calls.size() == next);
            }
        }
        runMailsUntil(() -> harness.extractOutputValues().size() == 5);
        assertThat(llm.maxInFlight.get()).isEqualTo(1);
    }

    @Test
    void theIncidentCacheAnswersRepeatedFirstTicketsWithoutACall() throws Exception {
        gatewaySettings = gateway(false, true);
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        harness.processElement(record(ticket("S-1", "T-1", "Is the site down?")));
        llm.calls.get(0).answer(answer("technical", "Site down."));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);

        harness.processElement(record(ticket("S-2", "T-2", "is the SITE down")));
        harness.processElement(record(ticket("S-1", "T-3", "Is the site down?")));
        runMailsUntil(() -> harness.extractOutputValues().size() == 2);
        List<TriageResult> out = harness.extractOutputValues();
        assertThat(out.get(1).ticketId()).isEqualTo("T-2");
        assertThat(out.get(1).cached()).isTrue();
        assertThat(out.get(1).summary()).isEqualTo("Site down.");
        assertThat(out.get(0).cached()).isFalse();
        // Not a first ticket: the conversation matters, so it is asked.
        assertThat(llm.calls).hasSize(2);
        assertThat(llm.calls.get(1).lastUserMessage()).contains("T-3");
    }

    private static long unanswered(FakeLlmClient llm) {
        return llm.calls.stream().filter(c -> !c.future().isDone()).count();
    }

    @Test
    void aBusySessionsWaitingTicketsCountTowardTheBacklogAndItsQueueIsCapped() throws Exception {
        harness =
                open(
                        TestSettings.yaml(
                                        """
                                        session.max-in-flight: 8
                                        session.max-backlog: 3
                                        session.history-turns: 4
                                        session.history-chars: 4000
                                        session.dedupe-window: 10
                                        session.idle-timeout: 1 h
                                        session.max-queued-per-session: 1000
                                        """)
                                .session(),
                        null);
        FakeLlmClient llm = fake(clientId);
        for (int i = 1; i <= 4; i++) {
            harness.processElement(record(ticket("S-1", "T-" + i, "ticket " + i)));
        }
        // T-1 in flight, T-2..T-4 unsent: the backlog of 3 is full. T-1's answer waits in the
        // mailbox; the next ticket is only taken once it has run and T-2 went out.
        llm.calls.get(0).answer(answer("other", "one"));
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.processElement(record(ticket("S-1", "T-5", "ticket 5")));
        assertThat(harness.extractOutputValues()).as("blocked until a ticket was sent").hasSize(1);
        assertThat(llm.calls).hasSize(2);

        assertThat(deadLetters()).isEmpty();
    }

    @Test
    void aFloodOfOneSessionGetsAClearDeadLetterBeyondItsQueueBound() throws Exception {
        harness =
                open(
                        TestSettings.yaml(
                                        """
                                        session.max-in-flight: 8
                                        session.max-backlog: 100
                                        session.history-turns: 4
                                        session.history-chars: 4000
                                        session.dedupe-window: 10
                                        session.idle-timeout: 1 h
                                        session.max-queued-per-session: 2
                                        """)
                                .session(),
                        null);
        FakeLlmClient llm = fake(clientId);
        for (int i = 1; i <= 4; i++) {
            harness.processElement(record(ticket("S-1", "T-" + i, "ticket " + i)));
        }
        // T-1 in flight, T-2 and T-3 wait: T-4 is refused, visibly, without a turn number.
        assertThat(deadLetters()).extracting(d -> d.ticketId()).containsExactly("T-4");
        assertThat(deadLetters().get(0).reason()).isEqualTo("session_backlog_full");
        for (int i = 0; i < 3; i++) {
            llm.calls.get(i).answer(answer("other", "ok " + i));
            int done = i + 1;
            runMailsUntil(() -> harness.extractOutputValues().size() == done);
        }
        assertThat(harness.extractOutputValues())
                .extracting(TriageResult::turn)
                .containsExactly(1, 2, 3);
    }

    /**
     * Found by CI's seeded chaos (seed 4: 30 % of connections dropped for 32 s): the provider
     * answered other calls meanwhile, so each drop counted against its ticket, and four drops in a
     * row (one ticket in 123 that was dropped once) dead-lettered 2 of 3,000 tickets. A failure
     * rate the provider shows every caller is no evidence against one ticket.
     */
    @Test
    void aProviderThatFailsThirtyPercentOfEveryonesCallsDeadLettersOnlyTheTicketItNeverAnswers()
            throws Exception {
        gatewaySettings = gateway(false, false, 20);
        harness = open(settings(32, 10_000), null);
        FakeLlmClient llm = fake(clientId);
        Random provider = new Random(4);
        String poison = "the ticket this provider fails every time";
        harness.processElement(record(ticket("S-P", "T-P", poison)));
        int tickets = 2_001;
        int fed = 1;
        int failed = 0;
        while (harness.extractOutputValues().size() + deadLetters().size() < tickets) {
            while (fed < tickets && fed < harness.extractOutputValues().size() + 200) {
                harness.processElement(record(ticket("S-" + fed % 100, "T-" + fed, "t " + fed)));
                fed++;
            }
            for (FakeLlmClient.Call c : llm.calls) {
                if (!c.settled().get()) {
                    harness.setProcessingTime(harness.getProcessingTime() + 1);
                    if (c.lastUserMessage().contains(poison) || provider.nextDouble() < 0.3) {
                        failed++;
                        c.fail(502, true);
                    } else {
                        c.answer(answer("other", "ok"));
                    }
                }
            }
            runMailsUntil(
                    () ->
                            unanswered(llm) > 0
                                    || harness.extractOutputValues().size() + deadLetters().size()
                                            == tickets);
        }
        assertThat(failed).as("calls that failed").isGreaterThan(500);
        assertThat(deadLetters())
                .as(
                        "dead letters of %s tickets, %s of %s calls failed",
                        tickets, failed, llm.calls.size())
                .extracting(d -> d.ticketId())
                .containsExactly("T-P");
        var counted =
                java.util.regex.Pattern.compile("(\\d+) of them counted against the ticket")
                        .matcher(deadLetters().get(0).detail());
        assertThat(counted.find()).as(deadLetters().get(0).detail()).isTrue();
        assertThat(Integer.parseInt(counted.group(1)))
                .as("0.3 to the power of the counted failures: one in a million or less")
                .isBetween(12, 20);
    }
}
