package dev.triage.session;

import dev.triage.config.GatewaySettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.SessionSettings;
import dev.triage.llm.TriageAnswer;
import dev.triage.records.DeadLetter;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;
import dev.triage.testing.TestSettings;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/** Harness plumbing for the session operator's tests: fixtures read like the domain. */
abstract class SessionOperatorTestBase {

    private static final PromptSettings PROMPTS =
            TestSettings.yaml(
                            """
                            triage.system-prompt: Triage.
                            triage.categories: {billing: money, technical: bugs, other: rest}
                            """)
                    .prompt();

    /** What every harness test's sessions share; {@link #settings} sets the limits. */
    private static final String SESSION =
            """
            session.history-turns: 4
            session.history-chars: 4000
            session.dedupe-window: 10
            session.idle-timeout: 1h
            """;

    /**
     * Endpoints the fake answers (their URLs are never called), and a gateway that retries three
     * times with a fast backoff and opens the circuit when half of its window failed.
     */
    private static final String GATEWAY =
            """
            llm.base-url: http://fake/primary
            llm.model: fake
            llm.api-key-env: ""
            llm.auth: NONE
            llm.max-output-tokens: 100
            llm.request-timeout: 5s
            llm.connect-timeout: 1s
            llm.max-attempts: 3
            llm.ticket-deadline: 15min
            llm.retry.initial-backoff: 10ms
            llm.retry.max-backoff: 50ms
            llm.retry.max-advised-wait: 200ms
            llm.repair-invalid-answers: true
            llm.circuit-breaker.failure-rate: 0.5
            llm.circuit-breaker.open-for: 100ms
            llm.circuit-breaker.max-open-for: 400ms
            llm.adaptive-concurrency: false
            llm.adaptive-concurrency.min: 1
            llm.incident-cache.window: 1min
            llm.incident-cache.max-entries: 100
            """;

    private static final String FALLBACK =
            """
            llm.fallback.base-url: http://fake/fallback
            llm.fallback.model: fake
            llm.fallback.auth: NONE
            """;

    protected final String clientId = UUID.randomUUID().toString();

    /** The processing time a harness starts at (restores in open() read it). */
    protected long startClock = 0;

    protected String currentClient = clientId;
    protected KeyedOneInputStreamOperatorTestHarness<String, Ticket, TriageResult> harness;

    /** The fakes of each harness this test opened, by the id it was opened with. */
    private final Map<String, FakeLlmClient.Endpoints> fakes = new HashMap<>();

    /** The gateway settings {@link #open} uses; tests may replace them before opening. */
    protected GatewaySettings gatewaySettings = gateway(false, false);

    @AfterEach
    void closeHarness() throws Exception {
        if (harness != null) {
            closeAfterAnsweringAll(harness, currentClient);
        }
    }

    /**
     * finish() waits for calls in flight (end of input), so every call still open, and every call
     * made while closing, is answered.
     */
    protected void closeAfterAnsweringAll(
            KeyedOneInputStreamOperatorTestHarness<String, Ticket, TriageResult> h, String id)
            throws Exception {
        FakeLlmClient.Endpoints endpoints = fakes.get(id);
        endpoints.primary().answerEveryCall(answer("other", "closing"));
        endpoints.fallback().answerEveryCall(answer("other", "closing"));
        h.close();
    }

    /** The fake primary endpoint of the harness opened with {@code id}. */
    protected FakeLlmClient fake(String id) {
        return fakes.get(id).primary();
    }

    /** The fake fallback endpoint of the harness opened with {@code id}. */
    protected FakeLlmClient fallback(String id) {
        return fakes.get(id).fallback();
    }

    /** New fakes for a harness opened with {@code id}: the factory hands the operator them. */
    protected FakeLlmClient.Endpoints newFakes(String id) {
        FakeLlmClient.Endpoints endpoints = new FakeLlmClient.Endpoints();
        fakes.put(id, endpoints);
        return endpoints;
    }

    // ------------------------------------------------------------------ fixtures

    /** A backlog of 100: tickets may queue behind their session without blocking the test. */
    protected static SessionSettings settings(int maxInFlight) {
        return settings(maxInFlight, 100);
    }

    protected static SessionSettings settings(int maxInFlight, int maxBacklog) {
        return TestSettings.yaml(
                        SESSION,
                        "session.max-in-flight: " + maxInFlight,
                        "session.max-backlog: " + maxBacklog)
                .session();
    }

    /** Three attempts, fast backoff, a circuit that opens after 4 of 8 calls failed. */
    protected static GatewaySettings gateway(boolean withFallback, boolean incidentCache) {
        return gateway(withFallback, incidentCache, 8);
    }

    /** The same with a circuit that opens after half of the last {@code breakerWindow} failed. */
    protected static GatewaySettings gateway(
            boolean withFallback, boolean incidentCache, int breakerWindow) {
        return gatewayYaml(
                        withFallback ? FALLBACK : "",
                        "llm.incident-cache.enabled: " + incidentCache,
                        "llm.circuit-breaker.window: " + breakerWindow)
                .gateway();
    }

    /** The test gateway's settings with {@code overrides} on top, for a test's own variant. */
    protected static TestSettings gatewayYaml(String... overrides) {
        String[] layers = new String[overrides.length + 1];
        layers[0] = GATEWAY;
        System.arraycopy(overrides, 0, layers, 1, overrides.length);
        return TestSettings.yaml(layers);
    }

    protected KeyedOneInputStreamOperatorTestHarness<String, Ticket, TriageResult> open(
            SessionSettings settings, OperatorSubtaskState state) throws Exception {
        return open(settings, state, clientId);
    }

    protected KeyedOneInputStreamOperatorTestHarness<String, Ticket, TriageResult> open(
            SessionSettings settings, OperatorSubtaskState state, String id) throws Exception {
        var h =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new SessionTriageOperatorFactory(
                                settings, gatewaySettings, PROMPTS, newFakes(id)),
                        Ticket::sessionKey,
                        Types.STRING);
        h.setProcessingTime(startClock);
        if (state != null) {
            h.initializeState(state);
        }
        h.open();
        return h;
    }

    static Ticket ticket(String session, String id, String body) {
        return new Ticket(id, session, "C-1", "email", null, body, 1_000L, "tickets", 0, 0L);
    }

    protected static StreamRecord<Ticket> record(Ticket t) {
        return new StreamRecord<>(t, t.createdAt());
    }

    static TriageAnswer answer(String category, String summary) {
        return new TriageAnswer(category, "normal", "neutral", summary, "We are on it.", 0.9);
    }

    protected List<DeadLetter> deadLetters() {
        var side = harness.getSideOutput(DeadLetter.OUTPUT_TAG);
        return side == null
                ? List.of()
                : side.stream().map(StreamRecord::getValue).collect(Collectors.toList());
    }

    /**
     * Runs mails (completions, retries) on this thread, the operator's task thread; when none is
     * waiting, moves the harness's processing-time clock on by 10 ms (timers fire), up to an hour.
     */
    protected void runMailsUntil(BooleanSupplier condition) throws Exception {
        TaskMailbox mailbox = harness.getTaskMailbox();
        long start = harness.getProcessingTime();
        while (!condition.getAsBoolean()) {
            Optional<Mail> mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY);
            if (mail.isPresent()) {
                mail.get().run();
            } else if (harness.getProcessingTime() - start > 3_600_000) {
                throw new AssertionError("condition not met within an hour of processing time");
            } else {
                harness.setProcessingTime(harness.getProcessingTime() + 10);
            }
        }
    }

    /** The last call whose ticket text contains {@code ticketId}, or null. */
    protected static FakeLlmClient.Call lastCallFor(FakeLlmClient llm, String ticketId) {
        FakeLlmClient.Call last = null;
        for (FakeLlmClient.Call c : llm.calls) {
            if (c.lastUserMessage().contains(ticketId)) {
                last = c;
            }
        }
        return last;
    }

    /** Runs every mail that is ready now, without moving the clock. */
    protected void runReadyMails() throws Exception {
        TaskMailbox mailbox = harness.getTaskMailbox();
        Optional<Mail> mail;
        while ((mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY)).isPresent()) {
            mail.get().run();
        }
    }
}
