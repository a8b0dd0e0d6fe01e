package dev.triage.session;

import dev.triage.config.GatewaySettings;
import dev.triage.config.PromptSettings;
import dev.triage.llm.Endpoint;
import dev.triage.llm.LlmException;
import dev.triage.llm.LlmGateway;
import dev.triage.llm.LlmGateway.Verdict;
import dev.triage.llm.LlmReply;
import dev.triage.llm.RetryAdvice;
import dev.triage.llm.TriageAnswer;
import dev.triage.llm.TriageAnswerParser;
import dev.triage.llm.TriageAnswerParser.InvalidAnswerException;
import dev.triage.records.DeadLetter.Reason;
import dev.triage.records.Ticket;

import java.util.concurrent.CompletionException;

/**
 * What to do with a ticket after its call came back: a pure function of the ticket, the reply or
 * the error, and what the gateway made of it. It changes nothing; the operator carries out the
 * {@link Decision}.
 */
final class OutcomePolicy {

    /** What the operator does next with the session's current ticket. */
    sealed interface Decision permits Emit, Repair, Retry, Wait, Fallback, GiveUp {}

    /** A usable answer in the reply: emit the result. */
    record Emit(TriageAnswer answer, LlmReply reply) implements Decision {}

    /** An unusable answer, the first for this ticket: ask again, showing it and its problem. */
    record Repair(RepairNote note) implements Decision {}

    /** The provider was healthy and failed the call: send {@code next} again after the delay. */
    record Retry(PendingTicket next, long delayMillis) implements Decision {}

    /** Not the ticket's fault (outage, probe, 429...): send {@code next} again after the delay. */
    record Wait(PendingTicket next, long delayMillis) implements Decision {}

    /** The primary rejected the ticket: only the fallback may answer it, at once. */
    record Fallback() implements Decision {}

    /**
     * The ticket cannot be answered: dead-letter it. {@code loud}: log it as a warning (the
     * provider gave up on it, rather than the model answering nonsense).
     */
    record GiveUp(Reason reason, String detail, String rawAnswer, boolean loud)
            implements Decision {}

    /** The unusable answer a repair attempt shows the model, and what is wrong with it. */
    record RepairNote(String ticketId, String answer, String problem) {}

    /** Which failure counter a failed call goes to. */
    enum FailureKind {
        RATE_LIMITED,
        TIMEOUT,
        SERVER_ERROR,
        REJECTED,
        INVALID_RESPONSE
    }

    /**
     * What the gateway made of a failed call. {@code chancesNeeded}: how many counted failures use
     * up the ticket's chances; {@code fallbackOnly}: the ticket already goes to the fallback only.
     */
    record GatewayView(
            Verdict verdict,
            Endpoint endpoint,
            boolean hasFallback,
            boolean fallbackOnly,
            int chancesNeeded) {
        /** What {@code gateway} made of the failed call on {@code route}. */
        static GatewayView of(
                LlmGateway gateway, LlmGateway.Route route, Verdict verdict, boolean fallbackOnly) {
            return new GatewayView(
                    verdict,
                    route.endpoint(),
                    gateway.hasFallback(),
                    fallbackOnly,
                    verdict == Verdict.COUNTS ? gateway.chancesNeeded(route) : 0);
        }
    }

    private final GatewaySettings settings;
    private final TriageAnswerParser answers;

    /** The policy for the job's answer schema (categories and lengths from the prompt). */
    static OutcomePolicy of(GatewaySettings gateway, PromptSettings prompt) {
        return new OutcomePolicy(
                gateway,
                new TriageAnswerParser(
                        prompt.categories().keySet(),
                        prompt.maxSummaryChars(),
                        prompt.maxDraftReplyChars()));
    }

    OutcomePolicy(GatewaySettings settings, TriageAnswerParser answers) {
        this.settings = settings;
        this.answers = answers;
    }

    /** The endpoint answered; {@code earlier} is the session's pending repair, if any. */
    Decision onReply(PendingTicket current, LlmReply reply, RepairNote earlier) {
        String problem;
        if (reply.content() == null) {
            problem =
                    reply.refusal() != null
                            ? "model refused: " + reply.refusal()
                            : "answer has no content";
        } else if ("length".equals(reply.finishReason())) {
            problem = "answer was cut off at the output token limit";
        } else {
            try {
                return new Emit(answers.parse(reply.content()), reply);
            } catch (InvalidAnswerException e) {
                problem = e.getMessage();
            }
        }
        return unusable(current, reply.content(), problem, earlier);
    }

    /** The call failed; {@code now} is when the failure arrived. */
    Decision onFailure(
            PendingTicket current,
            LlmException e,
            GatewayView gateway,
            RepairNote earlier,
            long now) {
        if (e.kind() == LlmException.Kind.INVALID_RESPONSE) {
            return unusable(current, e.responseBody(), e.getMessage(), earlier);
        }
        if (gateway.verdict() == Verdict.REJECTED) {
            if (gateway.endpoint() == Endpoint.PRIMARY
                    && gateway.hasFallback()
                    && e.kind() == LlmException.Kind.HTTP_STATUS
                    && !gateway.fallbackOnly()) {
                return new Fallback();
            }
            return new GiveUp(Reason.LLM_REJECTED, detail(current, e), null, true);
        }
        // The backoff grows with every failed call, counted or not (a provider answering 429 for
        // ever is asked less and less often).
        long delay =
                RetryAdvice.backoffMillis(
                        current.attempts(),
                        e.retryAfterMillis(),
                        settings.initialBackoff().toMillis(),
                        settings.maxBackoff().toMillis(),
                        settings.maxAdvisedWait().toMillis(),
                        jitter(current));
        if (gateway.verdict() != Verdict.COUNTS) {
            return new Wait(current.retryingAt(now + delay), delay);
        }
        // The provider was healthy and had its chance: the ticket's budget shrinks by the call and
        // the backoff after it (the circuit is closed). Waiting out an outage, probes,
        // stragglers, 429s and rejected keys never get here.
        PendingTicket next = current.chanceUsed(now, delay);
        if (next.chancesUsed() >= gateway.chancesNeeded()
                || next.chanceMillis() > settings.ticketDeadline().toMillis()) {
            return new GiveUp(Reason.LLM_UNAVAILABLE, detail(next, e), null, true);
        }
        return new Retry(next.retryingAt(now + delay), delay);
    }

    /** A ticket whose id the session used for other content: one id would get two outcomes. */
    static GiveUp duplicateId(Ticket ticket) {
        return new GiveUp(
                Reason.DUPLICATE_TICKET_ID,
                "ticket id "
                        + ticket.ticketId()
                        + " was already used in this session for a ticket with other content;"
                        + " give each ticket its own id",
                null,
                false);
    }

    /** A ticket behind {@code waiting} others of its session, at the session's bound. */
    static GiveUp backlogFull(String session, long waiting) {
        return new GiveUp(
                Reason.SESSION_BACKLOG_FULL,
                "session "
                        + session
                        + " already has "
                        + waiting
                        + " tickets waiting (session.max-queued-per-session)",
                null,
                false);
    }

    /**
     * What a call's future failed with, as an LlmException (anything else is a transport error).
     */
    static LlmException unwrap(Throwable error) {
        Throwable t = error;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof LlmException e) {
            return e;
        }
        return new LlmException(
                LlmException.Kind.TRANSPORT,
                0,
                true,
                t.getClass().getSimpleName() + ": " + t.getMessage(),
                null);
    }

    /** The failure counter of a failed call. */
    static FailureKind kind(LlmException e) {
        if (e.kind() == LlmException.Kind.INVALID_RESPONSE) {
            return FailureKind.INVALID_RESPONSE;
        }
        if (e.status() == 429 && e.retriable()) {
            return FailureKind.RATE_LIMITED;
        }
        if (e.kind() == LlmException.Kind.TIMEOUT) {
            return FailureKind.TIMEOUT;
        }
        return e.retriable() ? FailureKind.SERVER_ERROR : FailureKind.REJECTED;
    }

    /**
     * A malformed, truncated, refused or off-schema answer: one repair attempt that shows the model
     * its answer and the problem, then the dead-letter topic with the raw answer.
     */
    private Decision unusable(
            PendingTicket current, String rawAnswer, String problem, RepairNote earlier) {
        String ticketId = current.ticket().ticketId();
        boolean repeated = earlier != null && earlier.ticketId().equals(ticketId);
        if (settings.repairInvalidAnswers() && !repeated) {
            return new Repair(new RepairNote(ticketId, rawAnswer, problem));
        }
        String detail =
                repeated
                        ? problem
                                + " (also after a repair attempt; first: "
                                + earlier.problem()
                                + ")"
                        : problem;
        return new GiveUp(Reason.LLM_INVALID_OUTPUT, detail, rawAnswer, false);
    }

    private static String detail(PendingTicket p, LlmException e) {
        return e.getMessage()
                + " (after "
                + p.attempts()
                + " call(s), "
                + p.chancesUsed()
                + " of them counted against the ticket)";
    }

    /**
     * The backoff's jitter in [0, 1): spread over sessions and attempts like a random number, but a
     * function of them, so a simulation from a seed replays exactly.
     */
    static double jitter(PendingTicket p) {
        long h = p.ticket().sessionId().hashCode() * 0x9E3779B97F4A7C15L;
        h ^= p.ticket().ticketId().hashCode() + 0x632BE59BD9B4E019L * p.attempts();
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        return (h >>> 11) * 0x1.0p-53;
    }
}
