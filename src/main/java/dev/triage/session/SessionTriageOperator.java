package dev.triage.session;

import dev.triage.config.GatewaySettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.SessionSettings;
import dev.triage.llm.LlmClientFactory;
import dev.triage.llm.LlmException;
import dev.triage.llm.LlmGateway;
import dev.triage.llm.LlmGateway.Verdict;
import dev.triage.llm.LlmReply;
import dev.triage.llm.TriageAnswer;
import dev.triage.records.DeadLetter.Reason;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;
import dev.triage.session.OutcomePolicy.Decision;
import dev.triage.session.OutcomePolicy.GatewayView;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;

/**
 * The heart of the job: triages tickets with an LLM, one call at a time per session (in arrival
 * order, each request carrying the session's earlier answers), many sessions concurrently.
 *
 * <p>Runs after {@code keyBy(sessionId)}. All state lives in keyed state ({@link SessionState}) and
 * is touched only on the task thread: HTTP completions arrive on I/O threads and are handed back
 * through the mailbox. At most the gateway's adaptive limit of calls run per subtask ({@link
 * CallPermits}). A ticket that cannot be sent yet (no free call, no rate budget, circuit open)
 * waits in keyed state and in the {@link Dispatcher}; when more than {@code maxBacklog} of them
 * wait, {@code processElement} yields to the mailbox, which backpressures the input. What a reply
 * or an error means is the {@link OutcomePolicy}'s to say; this class only wires the collaborators
 * to Flink's lifecycle and carries out the decisions. See docs/design.md for the checkpoint and
 * restore story.
 *
 * <p>Over 300 lines, on purpose: what is left is the send/complete cycle and the decisions it
 * carries out (each a few calls into collaborators that have their own tests), which read best in
 * one place; the collaborators hold no references to each other, so only this class wires them.
 */
public class SessionTriageOperator extends AbstractStreamOperator<TriageResult>
        implements OneInputStreamOperator<Ticket, TriageResult>,
                Triggerable<String, VoidNamespace> {

    private static final long serialVersionUID = 1L;

    private final SessionSettings settings;
    private final GatewaySettings gatewaySettings;
    private final PromptSettings promptSettings;
    private final PriorityRules priorityRules;
    private final LlmClientFactory clientFactory;
    private final transient MailboxExecutor mailbox;

    private transient SessionState state;

    /** One processing-time timer per known session: its idle expiry. */
    private transient InternalTimerService<VoidNamespace> expiryTimers;

    private transient OperatorClock clock;
    private transient LlmGateway gateway;
    private transient Dispatcher dispatcher;
    private transient CallPermits permits;
    private transient RequestBuilder requests;
    private transient OutcomePolicy policy;
    private transient ResultEmitter emitter;
    private transient SessionMetrics metrics;

    public SessionTriageOperator(
            StreamOperatorParameters<TriageResult> parameters,
            SessionSettings settings,
            GatewaySettings gatewaySettings,
            PromptSettings promptSettings,
            PriorityRules priorityRules,
            LlmClientFactory clientFactory) {
        super(parameters);
        this.settings = settings;
        this.gatewaySettings = gatewaySettings;
        this.priorityRules = priorityRules;
        this.promptSettings = promptSettings;
        this.clientFactory = clientFactory;
        this.mailbox = parameters.getMailboxExecutor();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        state = new SessionState(context, settings.idleTimeout());
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        state.snapshot();
    }

    @Override
    public void open() throws Exception {
        super.open();
        clock = new OperatorClock(getProcessingTimeService(), mailbox);
        int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        // This subtask's share of the limits; a rescale re-opens the operator and re-splits them.
        gateway =
                new LlmGateway(
                        gatewaySettings,
                        clientFactory,
                        settings.maxInFlight(),
                        parallelism,
                        clock.now(),
                        state.restored());
        requests = RequestBuilder.of(promptSettings, gatewaySettings, settings.historyChars());
        policy = OutcomePolicy.of(gatewaySettings, promptSettings);
        dispatcher = new Dispatcher();
        permits = new CallPermits();
        expiryTimers =
                getInternalTimerService("session-expiry", VoidNamespaceSerializer.INSTANCE, this);
        metrics = new SessionMetrics(getMetricGroup());
        metrics.gauges(gateway, dispatcher::pending, permits::inFlight, dispatcher::readyCount);
        emitter = new ResultEmitter(output, priorityRules, metrics);
        if (state.needsMigration()) {
            Object previousKey = getCurrentKey();
            int sessions = state.migrateLayout1(getKeyedStateBackend(), session -> touch());
            restoreKey(previousKey);
            LOG.info("Migrated the conversations of {} sessions from state layout 1.", sessions);
        }
        resumeInFlightTickets();
    }

    /**
     * After a restore, the calls that were in flight at the checkpoint are gone with the old
     * process: send each of them again. Only keys of this subtask's key groups are visited, so
     * after a rescale every session is resumed exactly once, by its new owner. Also rebuilds the
     * count of pending tickets, which the backlog bound uses.
     */
    private void resumeInFlightTickets() throws Exception {
        long now = clock.now();
        List<String> sendNow = new ArrayList<>();
        List<PendingTicket> retryLater = new ArrayList<>();
        state.visitInFlight(
                getKeyedStateBackend(),
                (key, p) -> {
                    if (p.retryAt() > now) {
                        retryLater.add(p);
                    } else {
                        sendNow.add(key);
                    }
                });
        int resumed = sendNow.size() + retryLater.size();
        dispatcher.restored(resumed + state.countWaiting(getKeyedStateBackend()));
        for (PendingTicket p : retryLater) {
            scheduleSend(p.ticket().sessionKey(), p.retryAt() - now);
        }
        sendNow.forEach(dispatcher::markReady);
        metrics.resumedAfterRestore(resumed);
        if (dispatcher.pending() > 0) {
            LOG.info(
                    "Resuming {} in-flight tickets after restore ({} waiting for a retry); {}"
                            + " tickets pending in all.",
                    resumed,
                    retryLater.size(),
                    dispatcher.pending());
        }
        drainReady();
    }

    @Override
    public void processElement(StreamRecord<Ticket> element) throws Exception {
        Ticket ticket = element.getValue();
        String session = ticket.sessionKey();
        expireIfIdle();
        String seen = state.recall(ticket);
        if (seen != null) {
            if (seen.equals(RecentIds.fingerprint(ticket))) {
                metrics.duplicateDropped();
                LOG.debug(
                        "Dropping ticket {} of session {}: seen before",
                        ticket.ticketId(),
                        session);
            } else {
                // Same id, other content: not an upstream retry, and answering it would give one
                // ticket id two outcomes. Say so instead of dropping it.
                emitter.giveUp(ticket, OutcomePolicy.duplicateId(ticket), clock.now());
            }
            return;
        }
        boolean busy = state.inFlight() != null;
        if (busy && state.waiting() >= settings.maxQueuedPerSession()) {
            emitter.giveUp(
                    ticket, OutcomePolicy.backlogFull(session, state.waiting()), clock.now());
            return;
        }
        state.remember(ticket, settings.dedupeWindow());
        int turn = state.claimTurn();
        touch();
        PendingTicket pending = new PendingTicket(ticket, turn, clock.now());
        dispatcher.accepted();
        if (busy) {
            // The session is busy: wait in keyed state, behind its earlier tickets.
            state.enqueue(pending);
            metrics.queuedBehindSession();
        } else {
            state.inFlight(pending);
            dispatcher.markReady(session);
            drainReady();
        }
        // Backpressure: do not take the next input while more than maxBacklog accepted tickets
        // are unsent (waiting behind their session, for a call slot, for rate budget, for a retry
        // or for the provider). They are safe in keyed state, so up to that bound the operator
        // keeps taking input and checkpoints keep completing while the provider is away; beyond
        // it, checkpoints wait too (docs/design.md, "Outages").
        while (dispatcher.overBacklog(permits.inFlight(), settings.maxBacklog())) {
            mailbox.yield();
        }
    }

    /** The session did something: it lives for another idle timeout. */
    private void touch() throws Exception {
        if (state.touch(clock.now())) {
            // One expiry timer per session at a time, armed when the session first appears and
            // re-armed when it fires.
            expiryTimers.registerProcessingTimeTimer(
                    VoidNamespace.INSTANCE, clock.now() + settings.idleTimeout().toMillis());
        }
    }

    /**
     * The expiry timer deletes idle sessions too, but after a restore the source may deliver
     * replayed tickets before the timers that fell due during the downtime have fired.
     */
    private void expireIfIdle() throws Exception {
        if (state.expireIfIdle(clock.now(), settings.idleTimeout().toMillis())) {
            metrics.sessionExpired();
        }
    }

    @Override
    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        // The current key is the timer's session; after a restore, timers fall due late: judge
        // by the clock.
        long again = state.expiryDue(clock.now(), settings.idleTimeout().toMillis());
        if (again > 0) {
            expiryTimers.registerProcessingTimeTimer(VoidNamespace.INSTANCE, again);
        } else if (again == 0) {
            metrics.sessionExpired();
        }
    }

    @Override
    public void onEventTime(InternalTimer<String, VoidNamespace> timer) {
        // The job uses processing time only.
    }

    /** Sends ready sessions while there is capacity, rate budget and a closed circuit. */
    private void drainReady() throws Exception {
        while (dispatcher.hasReady() && permits.hasRoom(gateway.concurrencyLimit())) {
            // Out of the queue before sending: a cache hit that starts the session's next ticket
            // makes it ready again, and must find it gone.
            String session = dispatcher.pollReady();
            long wait = withKey(session, () -> send(session));
            if (wait <= 0) {
                continue;
            }
            if (dispatcher.isFallbackOnly(session) && dispatcher.hasReady()) {
                // Only the fallback may answer it and the fallback is not available: let the
                // sessions behind it go to the primary meanwhile.
                dispatcher.park(session);
                wakeUpIn(wait);
                continue;
            }
            dispatcher.keepPlace(session);
            metrics.rateLimitWaited(wait);
            wakeUpIn(wait); // rate budget or circuit: a wake-up drains again
            return;
        }
    }

    /** Wakes the operator when the gateway may let the next call through. */
    private void wakeUpIn(long delayMillis) {
        long at = clock.now() + delayMillis;
        if (dispatcher.wakeUpNeeded(at)) {
            clock.at(
                    at,
                    () -> {
                        dispatcher.wokeUp(at);
                        dispatcher.unpark();
                        drainReady();
                    });
        }
    }

    /** Sends the session's ticket again after a delay, without blocking anything. */
    private void scheduleSend(String session, long delayMillis) {
        long at = clock.now() + delayMillis;
        dispatcher.retryAt(session, at);
        clock.at(at, () -> retryDue(session, at));
    }

    private void retryDue(String session, long at) throws Exception {
        // Only the latest retry of the session counts (finish() re-schedules them).
        if (dispatcher.retryFired(session, at)) {
            dispatcher.markReady(session);
            drainReady();
        }
    }

    /**
     * Sends the current session's ticket in flight (or answers it from the incident cache). Returns
     * 0 when the ticket is on its way, else how long the gateway says to wait.
     */
    private long send(String session) throws Exception {
        PendingTicket current = state.inFlight();
        if (current == null) {
            // Cannot happen (work items do not expire); never strand the session's queue.
            LOG.warn("Session {} was ready without a ticket in flight", session);
            startNext(session);
            return 0;
        }
        var repair = dispatcher.repair(session);
        var hit = requests.cached(current, repair, clock.now());
        if (hit != null) {
            metrics.incidentCacheHit();
            emitResult(current, hit.getKey(), hit.getValue(), 0, 0, true);
            advance(session);
            return 0;
        }
        var messages = requests.messages(state.history(), current.ticket(), repair);
        var routed =
                gateway.route(
                        clock.now(), requests.tokens(messages), dispatcher.isFallbackOnly(session));
        if (!routed.go()) {
            metrics.rateLimitWait();
            return Math.max(1, routed.waitMillis());
        }
        PendingTicket sent = current.sent(clock.now());
        state.inFlight(sent);
        CallPermit call = permits.acquire(session, sent, routed, System.nanoTime());
        metrics.callSent(call.endpoint());
        try {
            gateway.client(call.endpoint())
                    .complete(messages, requests.answerSchema())
                    .whenComplete(
                            (reply, error) -> {
                                metrics.callAnswered(call.elapsedMillis(System.nanoTime()));
                                handBack(call, reply, error);
                            });
        } catch (RuntimeException e) {
            handBack(call, null, e);
        }
        return 0;
    }

    /** Runs on an I/O thread: only enqueue a mail, never touch state here. */
    private void handBack(CallPermit call, LlmReply reply, Throwable error) {
        try {
            mailbox.execute(
                    () -> onCompletion(call, reply, error),
                    "llm completion for session %s",
                    call.session());
        } catch (RejectedExecutionException e) {
            // The task is shutting down; the ticket is still in flight in the last checkpoint.
        }
    }

    private void onCompletion(CallPermit call, LlmReply reply, Throwable error) throws Exception {
        int inFlight = call.release();
        String session = call.session();
        withKey(
                session,
                () -> {
                    PendingTicket current = state.inFlight();
                    if (call.isStale(current)) {
                        LOG.debug("Ignoring a stale completion: {}", call);
                        return null;
                    }
                    long now = clock.now();
                    Decision decision;
                    if (error == null) {
                        gateway.onReply(call.route(), now, reply, inFlight);
                        metrics.billed(
                                gateway.settings(call.endpoint())
                                        .cost(reply.promptTokens(), reply.completionTokens()));
                        decision = policy.onReply(current, reply, dispatcher.repair(session));
                    } else {
                        LlmException e = OutcomePolicy.unwrap(error);
                        metrics.callFailed(OutcomePolicy.kind(e));
                        Verdict verdict = gateway.onFailure(call.route(), now, e);
                        var view =
                                GatewayView.of(
                                        gateway,
                                        call.route(),
                                        verdict,
                                        dispatcher.isFallbackOnly(session));
                        decision =
                                policy.onFailure(current, e, view, dispatcher.repair(session), now);
                    }
                    carryOut(session, current, decision);
                    return null;
                });
        drainReady();
    }

    /** Does what the policy decided for the current session's ticket. */
    private void carryOut(String session, PendingTicket current, Decision decision)
            throws Exception {
        if (decision instanceof OutcomePolicy.Emit emit) {
            LlmReply reply = emit.reply();
            metrics.answerUsable();
            emitResult(
                    current,
                    emit.answer(),
                    reply.model(),
                    reply.promptTokens(),
                    reply.completionTokens(),
                    false);
            boolean repaired = dispatcher.repair(session) != null;
            requests.answered(current, repaired, emit.answer(), reply.model(), clock.now());
            advance(session);
        } else if (decision instanceof OutcomePolicy.Repair repair) {
            metrics.answerUnusable();
            metrics.repairAsked();
            dispatcher.repair(session, repair.note());
            dispatcher.markReady(session);
        } else if (decision instanceof OutcomePolicy.Retry retry) {
            retry(session, retry.next(), retry.delayMillis());
        } else if (decision instanceof OutcomePolicy.Wait wait) {
            retry(session, wait.next(), wait.delayMillis());
        } else if (decision instanceof OutcomePolicy.Fallback) {
            // The primary rejected it: the fallback may answer at once.
            dispatcher.fallbackOnly(session);
            dispatcher.markReady(session);
        } else if (decision instanceof OutcomePolicy.GiveUp giveUp) {
            if (giveUp.reason() == Reason.LLM_INVALID_OUTPUT) {
                metrics.answerUnusable();
            }
            emitter.giveUp(current.ticket(), giveUp, clock.now());
            state.forget(current.ticket());
            advance(session);
        }
    }

    private void retry(String session, PendingTicket next, long delayMillis) throws Exception {
        state.inFlight(next);
        metrics.retryScheduled();
        scheduleSend(session, delayMillis);
    }

    private void emitResult(
            PendingTicket current,
            TriageAnswer answer,
            String model,
            int promptTokens,
            int completionTokens,
            boolean cached)
            throws Exception {
        emitter.result(current, answer, model, promptTokens, completionTokens, cached, clock.now());
        state.appendTurn(
                requests.turn(current, answer), settings.historyTurns(), settings.historyChars());
    }

    /** The session's current ticket is done: start its next waiting ticket, if any. */
    private void advance(String session) throws Exception {
        dispatcher.ended();
        gateway.ticketEnded(session.hashCode());
        // A session with work always has its expiry timer: only the time moves.
        state.lastActivity(clock.now());
        startNext(session);
    }

    /** Makes the session's oldest waiting ticket its ticket in flight, if it has one. */
    private void startNext(String session) throws Exception {
        dispatcher.ticketEnded(session);
        permits.ticketEnded(session);
        if (state.advance() != null) {
            dispatcher.markReady(session);
        }
    }

    @Override
    public void finish() throws Exception {
        // End of a bounded input (or stop with --drain): answer everything that was accepted.
        clock.finishing();
        // Timers registered before finish() no longer fire: carry the pending ones over.
        for (var retry : dispatcher.retries()) {
            clock.at(retry.getValue(), () -> retryDue(retry.getKey(), retry.getValue()));
        }
        long wakeUp = dispatcher.takeWakeUp();
        if (wakeUp != 0 || dispatcher.hasParked()) {
            long now = clock.now();
            wakeUpIn(Math.max(1, Math.max(wakeUp, now) - now));
        }
        while (permits.inFlight() > 0 || !dispatcher.idle()) {
            mailbox.yield();
        }
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            if (clock != null) {
                clock.close();
            }
            if (gateway != null) {
                gateway.close();
            }
        } finally {
            super.close();
        }
    }

    /** Runs {@code action} with {@code session} as the current key, then restores the key. */
    private <T> T withKey(String session, KeyedAction<T> action) throws Exception {
        Object previousKey = getCurrentKey();
        setCurrentKey(session);
        try {
            return action.run();
        } finally {
            restoreKey(previousKey);
        }
    }

    private interface KeyedAction<T> {
        T run() throws Exception;
    }

    private void restoreKey(Object previousKey) {
        if (previousKey != null) {
            setCurrentKey(previousKey);
        }
    }
}
