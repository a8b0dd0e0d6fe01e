package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.config.GatewaySettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.TriageOptions;
import dev.triage.llm.Endpoint;
import dev.triage.llm.LlmException;
import dev.triage.llm.LlmException.Kind;
import dev.triage.llm.LlmGateway.Verdict;
import dev.triage.llm.LlmReply;
import dev.triage.records.DeadLetter.Reason;
import dev.triage.session.OutcomePolicy.Decision;
import dev.triage.session.OutcomePolicy.Emit;
import dev.triage.session.OutcomePolicy.FailureKind;
import dev.triage.session.OutcomePolicy.Fallback;
import dev.triage.session.OutcomePolicy.GatewayView;
import dev.triage.session.OutcomePolicy.GiveUp;
import dev.triage.session.OutcomePolicy.Repair;
import dev.triage.session.OutcomePolicy.RepairNote;
import dev.triage.session.OutcomePolicy.Retry;
import dev.triage.session.OutcomePolicy.Wait;
import dev.triage.testing.TestSettings;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletionException;

/** The outcome policy branch by branch: a pure function, no harness. */
class OutcomePolicyTest {

    private static final PromptSettings PROMPTS =
            TestSettings.yaml(
                            """
                            triage.system-prompt: Triage.
                            triage.categories: {billing: money, other: rest}
                            """)
                    .prompt();

    private static OutcomePolicy policy(boolean repair, Duration deadline) {
        Configuration conf = new Configuration();
        conf.set(TriageOptions.LLM_REPAIR_INVALID_ANSWERS, repair);
        conf.set(TriageOptions.LLM_TICKET_DEADLINE, deadline);
        return OutcomePolicy.of(GatewaySettings.from(conf), PROMPTS);
    }

    private final OutcomePolicy policy = policy(true, Duration.ofMinutes(15));

    private static final PendingTicket SENT =
            new PendingTicket(SessionOperatorTestBase.ticket("S-1", "T-1", "hi"), 1, 0L).sent(100);

    private static final String GOOD =
            SessionOperatorTestBase.answer("billing", "a refund").toJson();

    private static LlmReply reply(String content, String finish, String refusal) {
        return new LlmReply(content, finish, refusal, "m-1", 10, 5);
    }

    private static LlmException http(int status, boolean retriable, long retryAfter) {
        return new LlmException(
                Kind.HTTP_STATUS, status, retriable, "HTTP " + status, null, retryAfter);
    }

    private static GatewayView view(Verdict verdict) {
        return new GatewayView(verdict, Endpoint.PRIMARY, false, false, 4);
    }

    // ------------------------------------------------------------ replies

    @Test
    void aUsableAnswerIsEmitted() {
        Decision d = policy.onReply(SENT, reply(GOOD, "stop", null), null);
        assertThat(d).isInstanceOf(Emit.class);
        assertThat(((Emit) d).answer().category()).isEqualTo("billing");
        assertThat(((Emit) d).reply().model()).isEqualTo("m-1");
    }

    @Test
    void anUnusableAnswerIsRepairedOnceShowingTheModelWhatWasWrong() {
        Decision d = policy.onReply(SENT, reply("{\"category\":\"nope\"}", "stop", null), null);
        assertThat(d).isInstanceOf(Repair.class);
        RepairNote note = ((Repair) d).note();
        assertThat(note.ticketId()).isEqualTo("T-1");
        assertThat(note.answer()).isEqualTo("{\"category\":\"nope\"}");
        assertThat(note.problem()).isNotBlank();

        Decision again = policy.onReply(SENT, reply("still bad", "stop", null), note);
        assertThat(again).isInstanceOf(GiveUp.class);
        GiveUp g = (GiveUp) again;
        assertThat(g.reason()).isEqualTo(Reason.LLM_INVALID_OUTPUT);
        assertThat(g.detail()).contains("also after a repair attempt; first: " + note.problem());
        assertThat(g.rawAnswer()).isEqualTo("still bad");
        assertThat(g.loud()).isFalse();
    }

    @Test
    void aRepairOfAnotherTicketDoesNotCount() {
        var other = new RepairNote("T-0", "x", "y");
        assertThat(policy.onReply(SENT, reply("bad", "stop", null), other))
                .isInstanceOf(Repair.class);
    }

    @Test
    void refusalsEmptyAndTruncatedAnswersAreUnusable() {
        var noRepair = policy(false, Duration.ofMinutes(15));
        assertThat(((GiveUp) noRepair.onReply(SENT, reply(null, "stop", "no way"), null)).detail())
                .isEqualTo("model refused: no way");
        assertThat(((GiveUp) noRepair.onReply(SENT, reply(null, "stop", null), null)).detail())
                .isEqualTo("answer has no content");
        assertThat(((GiveUp) noRepair.onReply(SENT, reply(GOOD, "length", null), null)).detail())
                .isEqualTo("answer was cut off at the output token limit");
    }

    // ------------------------------------------------------------ failures

    @Test
    void aResponseThatIsNoChatCompletionIsAnUnusableAnswer() {
        var e = new LlmException(Kind.INVALID_RESPONSE, 200, false, "not JSON", "<html>");
        Decision d = policy.onFailure(SENT, e, view(Verdict.REJECTED), null, 500);
        assertThat(d).isInstanceOf(Repair.class);
        assertThat(((Repair) d).note().answer()).isEqualTo("<html>");
        assertThat(OutcomePolicy.kind(e)).isEqualTo(FailureKind.INVALID_RESPONSE);
    }

    @Test
    void aRejectionByThePrimaryGoesToTheFallbackOnce() {
        var withFallback = new GatewayView(Verdict.REJECTED, Endpoint.PRIMARY, true, false, 4);
        assertThat(policy.onFailure(SENT, http(400, false, -1), withFallback, null, 500))
                .isInstanceOf(Fallback.class);

        var already = new GatewayView(Verdict.REJECTED, Endpoint.PRIMARY, true, true, 4);
        Decision d = policy.onFailure(SENT, http(400, false, -1), already, null, 500);
        assertThat(d).isInstanceOf(GiveUp.class);
        assertThat(((GiveUp) d).reason()).isEqualTo(Reason.LLM_REJECTED);
        assertThat(((GiveUp) d).loud()).isTrue();
        assertThat(((GiveUp) d).detail()).contains("HTTP 400 (after 1 call(s), 0 of them");
    }

    @Test
    void aRejectionWithoutAFallbackOrByTheFallbackIsDeadLettered() {
        assertThat(policy.onFailure(SENT, http(422, false, -1), view(Verdict.REJECTED), null, 0))
                .isInstanceOf(GiveUp.class);
        var byFallback = new GatewayView(Verdict.REJECTED, Endpoint.FALLBACK, true, true, 4);
        assertThat(policy.onFailure(SENT, http(422, false, -1), byFallback, null, 0))
                .isInstanceOf(GiveUp.class);
        var transport = new LlmException(Kind.TRANSPORT, 0, false, "odd", null);
        var withFallback = new GatewayView(Verdict.REJECTED, Endpoint.PRIMARY, true, false, 4);
        assertThat(policy.onFailure(SENT, transport, withFallback, null, 0))
                .as("only an HTTP rejection goes to the fallback")
                .isInstanceOf(GiveUp.class);
    }

    @Test
    void anOutageWaitsWithoutUsingTheTicketsChances() {
        Decision d = policy.onFailure(SENT, http(503, true, 2_000), view(Verdict.WAIT), null, 500);
        assertThat(d).isInstanceOf(Wait.class);
        Wait w = (Wait) d;
        assertThat(w.delayMillis()).isEqualTo(2_000);
        assertThat(w.next().retryAt()).isEqualTo(2_500);
        assertThat(w.next().chancesUsed()).isZero();
    }

    @Test
    void aCountedFailureUsesAChanceAndRetries() {
        Decision d =
                policy.onFailure(SENT, http(500, true, 1_000), view(Verdict.COUNTS), null, 300);
        assertThat(d).isInstanceOf(Retry.class);
        Retry r = (Retry) d;
        assertThat(r.delayMillis()).isEqualTo(1_000);
        assertThat(r.next().chancesUsed()).isEqualTo(1);
        assertThat(r.next().chanceMillis())
                .as("the call (200 ms) and the backoff")
                .isEqualTo(1_200);
        assertThat(r.next().retryAt()).isEqualTo(1_300);
    }

    @Test
    void theLastChanceDeadLettersAsUnavailable() {
        PendingTicket used = SENT.chanceUsed(100, 0).chanceUsed(100, 0).chanceUsed(100, 0);
        Decision d = policy.onFailure(used, http(500, true, 10), view(Verdict.COUNTS), null, 100);
        assertThat(d).isInstanceOf(GiveUp.class);
        assertThat(((GiveUp) d).reason()).isEqualTo(Reason.LLM_UNAVAILABLE);
        assertThat(((GiveUp) d).detail()).contains("4 of them counted against the ticket");

        var moreNeeded = new GatewayView(Verdict.COUNTS, Endpoint.PRIMARY, false, false, 9);
        assertThat(policy.onFailure(used, http(500, true, 10), moreNeeded, null, 100))
                .as("others fail too: more chances")
                .isInstanceOf(Retry.class);
    }

    @Test
    void theTicketDeadlineDeadLettersAsUnavailable() {
        var quick = policy(true, Duration.ofSeconds(1));
        Decision d = quick.onFailure(SENT, http(500, true, 2_000), view(Verdict.COUNTS), null, 100);
        assertThat(((GiveUp) d).reason()).isEqualTo(Reason.LLM_UNAVAILABLE);
    }

    @Test
    void failuresAreCountedByKind() {
        assertThat(OutcomePolicy.kind(http(429, true, -1))).isEqualTo(FailureKind.RATE_LIMITED);
        assertThat(OutcomePolicy.kind(http(429, false, -1))).isEqualTo(FailureKind.REJECTED);
        assertThat(OutcomePolicy.kind(new LlmException(Kind.TIMEOUT, 0, true, "t", null)))
                .isEqualTo(FailureKind.TIMEOUT);
        assertThat(OutcomePolicy.kind(http(502, true, -1))).isEqualTo(FailureKind.SERVER_ERROR);
        assertThat(OutcomePolicy.kind(http(400, false, -1))).isEqualTo(FailureKind.REJECTED);
    }

    @Test
    void anyOtherThrowableIsARetriableTransportError() {
        LlmException e = OutcomePolicy.unwrap(new CompletionException(new IOException("reset")));
        assertThat(e.kind()).isEqualTo(Kind.TRANSPORT);
        assertThat(e.retriable()).isTrue();
        assertThat(e.getMessage()).isEqualTo("IOException: reset");
        LlmException own = http(503, true, -1);
        assertThat(OutcomePolicy.unwrap(new CompletionException(own))).isSameAs(own);
    }

    @Test
    void theBackoffJitterIsAFunctionOfTheTicket() {
        assertThat(OutcomePolicy.jitter(SENT))
                .isEqualTo(OutcomePolicy.jitter(SENT))
                .isBetween(0.0, 1.0);
        assertThat(OutcomePolicy.jitter(SENT.sent(200))).isNotEqualTo(OutcomePolicy.jitter(SENT));
    }

    @Test
    void admissionDeadLettersSayWhatToDo() {
        var t = SessionOperatorTestBase.ticket("S-1", "T-1", "hi");
        assertThat(OutcomePolicy.duplicateId(t).reason()).isEqualTo(Reason.DUPLICATE_TICKET_ID);
        assertThat(OutcomePolicy.duplicateId(t).detail()).contains("give each ticket its own id");
        assertThat(OutcomePolicy.backlogFull("S-1", 3).detail())
                .contains("already has 3 tickets waiting");
    }
}
