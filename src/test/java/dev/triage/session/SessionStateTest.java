package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.records.TriageResult;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/** State that stays bounded, expires, and restores from a savepoint of an earlier version. */
class SessionStateTest extends SessionOperatorTestBase {

    /**
     * Written by this version with {@link #writeSavepointFixture()}; later versions must restore
     * it.
     */
    static final Path FIXTURE =
            Path.of("src/test/resources/savepoints/session-triage-0.1.snapshot");

    @Test
    void expiredSessionsLeaveTheStateAndStartFresh() throws Exception {
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        harness.setProcessingTime(0);
        for (int s = 0; s < 30; s++) {
            harness.processElement(record(ticket("S-" + s, "T-1", "hello")));
            int call = s;
            llm.calls.get(call).answer(answer("other", "answer " + s));
            runMailsUntil(() -> harness.extractOutputValues().size() == call + 1);
        }
        int entriesWhileActive = harness.numKeyedStateEntries();
        assertThat(entriesWhileActive).isGreaterThanOrEqualTo(30 * 3);

        // Two hours later (idle timeout 1 h) one new session keeps the operator busy.
        harness.setProcessingTime(Duration.ofHours(2).toMillis());
        for (int i = 1; i <= 20; i++) {
            harness.processElement(record(ticket("S-new", "N-" + i, "hello again")));
            llm.calls.get(29 + i).answer(answer("other", "new " + i));
            int done = 30 + i;
            runMailsUntil(() -> harness.extractOutputValues().size() == done);
        }
        runMailsUntil(() -> harness.extractOutputValues().size() == 50);
        assertThat(harness.numKeyedStateEntries()).isLessThanOrEqualTo(6);

        // A ticket of an expired session starts a new conversation.
        harness.processElement(record(ticket("S-3", "T-2", "back")));
        FakeLlmClient.Call last = llm.calls.get(llm.calls.size() - 1);
        assertThat(last.assistantMessages()).isZero();
        last.answer(answer("other", "fresh"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 51);
        assertThat(harness.extractOutputValues().get(50).turn()).isEqualTo(1);
    }

    @Test
    void stateLevelsOffWhenSessionsComeAndGo() throws Exception {
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        int[] entriesAt = new int[301];
        // One new session a minute, three tickets each, idle timeout one hour.
        for (int minute = 0; minute <= 300; minute++) {
            harness.setProcessingTime(Duration.ofMinutes(minute).toMillis());
            for (int k = 1; k <= 3; k++) {
                harness.processElement(record(ticket("S-" + minute, "T-" + k, "ticket " + k)));
                int call = minute * 3 + k - 1;
                llm.calls.get(call).answer(answer("other", "answer"));
                int done = call + 1;
                runMailsUntil(() -> harness.extractOutputValues().size() == done);
            }
            entriesAt[minute] = harness.numKeyedStateEntries();
        }
        int perSession = entriesAt[0];
        // Bounded by the sessions of the last hour (plus the ones not yet cleaned up), not by 300.
        assertThat(entriesAt[300]).isLessThan(90 * perSession);
        assertThat(entriesAt[300]).isLessThanOrEqualTo(entriesAt[150] + 5 * perSession);
        assertThat(entriesAt[300]).isGreaterThanOrEqualTo(55 * perSession);
    }

    @Test
    void restoresTheSavepointFixtureOfVersion01() throws Exception {
        assertThat(FIXTURE).exists();
        harness = open(settings(8), OperatorSnapshotUtil.readStateHandle(FIXTURE.toString()));
        FakeLlmClient llm = fake(clientId);
        // In flight at the snapshot: S-1's second ticket and S-2's first; sent again on restore,
        // one probe first (nothing is known about the provider), then the other.
        assertThat(llm.calls).hasSize(1);
        FakeLlmClient.Call probe = llm.calls.get(0);
        probe.answer(
                probe.lastUserMessage().contains("S-1 second")
                        ? answer("billing", "S-1 second answer")
                        : answer("other", "S-2 first answer"));
        runMailsUntil(() -> llm.calls.size() >= 2);
        FakeLlmClient.Call s1 = callFor(llm, "S-1 second");
        assertThat(s1.allText()).contains("S-1 first answer");
        s1.answer(answer("billing", "S-1 second answer"));
        runMailsUntil(() -> callFor(llm, "S-1 third") != null);
        callFor(llm, "S-1 third").answer(answer("other", "S-1 third answer"));
        callFor(llm, "S-2 first").answer(answer("other", "S-2 first answer"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 3);
        List<TriageResult> out = harness.extractOutputValues();
        assertThat(out)
                .filteredOn(r -> r.sessionId().equals("S-1"))
                .extracting(TriageResult::turn)
                .containsExactly(2, 3);
        // The dedupe window came back too.
        harness.processElement(record(ticket("S-1", "S1-T1", "S-1 first, re-sent")));
        assertThat(llm.calls).hasSize(3);
    }

    @Test
    void workItemsSurviveARestoreAfterMoreThanTheIdleTimeout() throws Exception {
        harness = open(settings(8), null);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        harness.setProcessingTime(Duration.ofMinutes(40).toMillis());
        harness.processElement(record(ticket("S-1", "T-2", "second")));
        OperatorSubtaskState snapshot = harness.snapshot(1L, 1L);
        closeAfterAnsweringAll(harness, clientId);

        // Restored 70 minutes after T-1 was sent (idle timeout 1 h): nothing may be lost.
        String restoredId = UUID.randomUUID().toString();
        startClock = Duration.ofMinutes(70).toMillis();
        try {
            harness = open(settings(8), snapshot, restoredId);
        } finally {
            startClock = 0;
        }
        currentClient = restoredId;
        FakeLlmClient llm = fake(restoredId);
        assertThat(llm.calls).hasSize(1);
        assertThat(llm.calls.get(0).lastUserMessage()).contains("T-1");
        llm.calls.get(0).answer(answer("other", "one"));
        runMailsUntil(() -> llm.calls.size() == 2);
        assertThat(llm.calls.get(1).lastUserMessage()).contains("T-2");
        llm.calls.get(1).answer(answer("other", "two"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 2);
        assertThat(harness.extractOutputValues())
                .extracting(TriageResult::turn)
                .containsExactly(1, 2);
    }

    @Test
    void aQueueThatTakesLongerThanTheIdleTimeoutLosesNothing() throws Exception {
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        for (int i = 1; i <= 5; i++) {
            harness.processElement(record(ticket("S-1", "T-" + i, "ticket " + i)));
        }
        // Each answer takes 25 minutes: the last ticket waits 100 minutes in the queue.
        for (int i = 1; i <= 5; i++) {
            harness.setProcessingTime(Duration.ofMinutes(25L * i).toMillis());
            int call = i - 1;
            runMailsUntil(() -> llm.calls.size() > call);
            assertThat(llm.calls.get(call).lastUserMessage()).contains("T-" + i);
            llm.calls.get(call).answer(answer("other", "answer " + i));
            int done = i;
            runMailsUntil(() -> harness.extractOutputValues().size() == done);
        }
        assertThat(harness.extractOutputValues())
                .extracting(TriageResult::turn)
                .containsExactly(1, 2, 3, 4, 5);
        assertThat(deadLetters()).isEmpty();
    }

    /**
     * Regenerates the fixture (only when the state layout changes on purpose, before a release):
     * {@code mvn -q test-compile dependency:build-classpath -Dmdep.outputFile=cp.txt && java -cp
     * target/test-classes:target/classes:$(cat cp.txt) dev.triage.session.SessionStateTest}.
     */
    public static void main(String[] args) throws Exception {
        SessionStateTest writer = new SessionStateTest();
        writer.writeSavepointFixture();
        System.out.println("Wrote " + FIXTURE.toAbsolutePath());
        System.exit(0);
    }

    void writeSavepointFixture() throws Exception {
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        harness.processElement(record(ticket("S-1", "S1-T1", "S-1 first")));
        llm.calls.get(0).answer(answer("billing", "S-1 first answer"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        harness.processElement(record(ticket("S-1", "S1-T2", "S-1 second")));
        harness.processElement(record(ticket("S-1", "S1-T3", "S-1 third")));
        harness.processElement(record(ticket("S-2", "S2-T1", "S-2 first")));
        OperatorSubtaskState state = harness.snapshot(1L, 1L);
        Files.createDirectories(FIXTURE.getParent());
        OperatorSnapshotUtil.writeStateHandle(state, FIXTURE.toString());
        closeAfterAnsweringAll(harness, clientId);
        harness = null;
        currentClient = UUID.randomUUID().toString();
    }

    private static FakeLlmClient.Call callFor(FakeLlmClient llm, String text) {
        return llm.calls.stream()
                .filter(c -> c.lastUserMessage().contains(text))
                .findFirst()
                .orElse(null);
    }

    @Test
    void theConversationNeverExpiresUnderATicketInFlightDuringALongOutage() throws Exception {
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        llm.calls.get(0).answer(answer("billing", "first answer"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        harness.processElement(record(ticket("S-1", "T-2", "second")));
        // T-2 gets no answer for two hours (idle timeout: one hour).
        harness.setProcessingTime(Duration.ofHours(2).toMillis());
        llm.calls.get(1).answer(answer("other", "second answer"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 2);
        harness.processElement(record(ticket("S-1", "T-3", "third")));
        FakeLlmClient.Call third = callFor(llm, "third");
        assertThat(third.allText()).contains("first answer").contains("second answer");
        third.answer(answer("other", "third answer"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 3);
        assertThat(harness.extractOutputValues())
                .extracting(TriageResult::turn)
                .containsExactly(1, 2, 3);
    }

    @Test
    void aRestoreAfterANightOfDowntimeKeepsTheTurnsOfASessionWithWorkInFlight() throws Exception {
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        harness.processElement(record(ticket("S-1", "T-1", "first")));
        llm.calls.get(0).answer(answer("billing", "first answer"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        harness.processElement(record(ticket("S-1", "T-2", "second")));
        harness.processElement(record(ticket("S-9", "T-9", "idle soon")));
        llm.calls.get(2).answer(answer("other", "nine"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 2);
        OperatorSubtaskState snapshot = harness.snapshot(1L, 1L);
        closeAfterAnsweringAll(harness, clientId);

        // `bin/triage down` for ten hours, then `up`.
        String restoredId = UUID.randomUUID().toString();
        startClock = Duration.ofHours(10).toMillis();
        try {
            harness = open(settings(8), snapshot, restoredId);
        } finally {
            startClock = 0;
        }
        currentClient = restoredId;
        // Timers that fell due during the downtime fire as soon as time moves.
        harness.setProcessingTime(harness.getProcessingTime() + 1);
        FakeLlmClient restored = fake(restoredId);
        runMailsUntil(() -> callFor(restored, "second") != null);
        FakeLlmClient.Call second = callFor(restored, "second");
        assertThat(second.allText())
                .as("history kept under work in flight")
                .contains("first answer");
        second.answer(answer("other", "second answer"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);
        harness.processElement(record(ticket("S-1", "T-3", "third")));
        callFor(restored, "third").answer(answer("other", "third"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 2);
        assertThat(harness.extractOutputValues())
                .extracting(TriageResult::turn)
                .containsExactly(2, 3);
        // The idle session (nothing pending) expired at the restore, ten hours on.
        harness.processElement(record(ticket("S-9", "T-10", "back")));
        callFor(restored, "back").answer(answer("other", "fresh"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 3);
        assertThat(harness.extractOutputValues().get(2).turn()).isEqualTo(1);
    }
}
