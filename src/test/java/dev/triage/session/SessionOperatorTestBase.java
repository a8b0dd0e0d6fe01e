package dev.triage.session;

import dev.triage.config.EndpointOptions;
import dev.triage.config.GatewaySettings;
import dev.triage.config.LlmSettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.SessionSettings;
import dev.triage.llm.TriageAnswer;
import dev.triage.records.DeadLetter;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/** Harness plumbing for the session operator's tests: fixtures read like the domain. */
abstract class SessionOperatorTestBase {

    private static final PromptSettings PROMPTS =
            new PromptSettings(
                    "Triage.",
                    new java.util.TreeMap<>(
                            Map.of("billing", "money", "technical", "bugs", "other", "rest")));

    protected final String clientId = UUID.randomUUID().toString();

    /** The processing time a harness starts at (restores in open() read it). */
    protected static long startClock = 0;

    protected String currentClient = clientId;
    protected KeyedOneInputStreamOperatorTestHarness<String, Ticket, TriageResult> harness;

    @AfterEach
    void closeHarness() throws Exception {
        if (harness != null) {
            closeAfterAnsweringAll(harness, currentClient);
        }
    }

    /** finish() waits for calls in flight (end of input), so answer them before closing. */
    protected static void closeAfterAnsweringAll(
            KeyedOneInputStreamOperatorTestHarness<String, Ticket, TriageResult> h, String id)
            throws Exception {
        FakeLlmClient llm = FakeLlmClient.get(id);
        FakeLlmClient fallback = FakeLlmClient.get(id + "/fallback");
        Thread answerer =
                new Thread(
                        () -> {
                            long deadline = System.currentTimeMillis() + 10_000;
                            while (System.currentTimeMillis() < deadline) {
                                llm.calls.forEach(c -> c.answer(answer("other", "closing")));
                                fallback.calls.forEach(c -> c.answer(answer("other", "closing")));
                                sleep(5);
                            }
                        });
        answerer.setDaemon(true);
        answerer.start();
        h.close();
        answerer.interrupt();
    }

    // ------------------------------------------------------------------ fixtures

    /** A backlog of 100: tickets may queue behind their session without blocking the test. */
    protected static SessionSettings settings(int maxInFlight) {
        return settings(maxInFlight, 100);
    }

    protected static SessionSettings settings(int maxInFlight, int maxBacklog) {
        return new SessionSettings(maxInFlight, maxBacklog, 4, 4000, 10, Duration.ofHours(1));
    }

    /** An endpoint as the fake client sees it (only the name matters to it). */
    protected static LlmSettings endpoint(String name, int rpm) {
        return new LlmSettings(
                name,
                "http://fake/" + name,
                "fake",
                "",
                "",
                EndpointOptions.Auth.NONE,
                "",
                EndpointOptions.StructuredOutput.JSON_SCHEMA,
                "max_tokens",
                rpm,
                0,
                0.0,
                100,
                Duration.ofSeconds(5),
                Duration.ofSeconds(1),
                0.0,
                0.0);
    }

    /** Three attempts, fast backoff, a circuit that opens after 4 of 8 calls failed. */
    protected static GatewaySettings gateway(boolean withFallback, boolean incidentCache) {
        return gateway(withFallback, incidentCache, 8);
    }

    /** The same with a circuit that opens after half of the last {@code breakerWindow} failed. */
    protected static GatewaySettings gateway(
            boolean withFallback, boolean incidentCache, int breakerWindow) {
        List<LlmSettings> endpoints =
                withFallback
                        ? List.of(endpoint("primary", 0), endpoint("fallback", 0))
                        : List.of(endpoint("primary", 0));
        return new GatewaySettings(
                endpoints,
                3,
                Duration.ofMinutes(15),
                Duration.ofMillis(10),
                Duration.ofMillis(50),
                Duration.ofMillis(200),
                true,
                0.5,
                breakerWindow,
                Duration.ofMillis(100),
                Duration.ofMillis(400),
                false,
                1,
                incidentCache,
                Duration.ofMinutes(1),
                100);
    }

    /** The gateway settings {@link #open} uses; tests may replace them before opening. */
    protected static GatewaySettings gatewaySettings = gateway(false, false);

    @org.junit.jupiter.api.BeforeEach
    void defaultGateway() {
        gatewaySettings = gateway(false, false);
    }

    protected KeyedOneInputStreamOperatorTestHarness<String, Ticket, TriageResult> open(
            SessionSettings settings, OperatorSubtaskState state) throws Exception {
        return open(settings, state, clientId);
    }

    protected static KeyedOneInputStreamOperatorTestHarness<String, Ticket, TriageResult> open(
            SessionSettings settings, OperatorSubtaskState state, String id) throws Exception {
        var h =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new SessionTriageOperatorFactory(
                                settings, gatewaySettings, PROMPTS, FakeLlmClient.factory(id)),
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

    protected static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
