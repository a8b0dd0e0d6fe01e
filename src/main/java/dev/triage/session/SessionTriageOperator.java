package dev.triage.session;

import dev.triage.config.GatewaySettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.SessionSettings;
import dev.triage.llm.ChatMessage;
import dev.triage.llm.IncidentCache;
import dev.triage.llm.LlmClientFactory;
import dev.triage.llm.LlmException;
import dev.triage.llm.LlmGateway;
import dev.triage.llm.LlmReply;
import dev.triage.llm.PromptBuilder;
import dev.triage.llm.RetryAdvice;
import dev.triage.llm.TokenEstimate;
import dev.triage.llm.TriageAnswer;
import dev.triage.llm.TriageAnswerParser;
import dev.triage.llm.TriageAnswerParser.InvalidAnswerException;
import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetter.Reason;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.concurrent.ExecutorThreadFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The heart of the job: triages tickets with an LLM, one call at a time per session (in arrival
 * order, each request carrying the session's earlier answers), many sessions concurrently.
 *
 * <p>Runs after {@code keyBy(sessionId)}. All state lives in keyed state and is touched only on the
 * task thread: HTTP completions arrive on I/O threads and are handed back through the mailbox. At
 * most the gateway's adaptive limit of calls run per subtask. A ticket that cannot be sent yet (no
 * free call, no rate budget, circuit open) is recorded in keyed state and waits; when more than
 * {@code maxBacklog} of them wait, {@code processElement} yields to the mailbox, which
 * backpressures the input. Tickets behind a busy session wait in keyed MapState (RocksDB), not on
 * the heap. See docs/design.md for the checkpoint and restore story.
 */
public class SessionTriageOperator extends AbstractStreamOperator<TriageResult>
        implements OneInputStreamOperator<Ticket, TriageResult> {

    private static final long serialVersionUID = 1L;

    /** The per-ticket trace: switch the logger {@code dev.triage.trace} to INFO to get it. */
    private static final org.slf4j.Logger TRACE =
            org.slf4j.LoggerFactory.getLogger("dev.triage.trace");

    private final SessionSettings settings;
    private final GatewaySettings gatewaySettings;
    private final PromptSettings promptSettings;
    private final PriorityRules priorityRules;
    private final LlmClientFactory clientFactory;
    private final transient MailboxExecutor mailbox;

    // ------------------------------------------------------------ keyed state (per session)
    private transient ValueState<Integer> nextTurnState;
    private transient ValueState<WaitingQueue> queueState;
    private transient MapState<Long, PendingTicket> waitingState;
    private transient ValueState<PendingTicket> inFlightState;
    private transient ValueState<List<Turn>> historyState;
    private transient ValueState<List<String>> recentIdsState;
    private transient ValueStateDescriptor<PendingTicket> inFlightDescriptor;

    // ------------------------------------------------------------ in memory only
    private transient LlmGateway gateway;
    private transient IncidentCache incidentCache;
    private transient PromptBuilder prompts;
    private transient TriageAnswerParser answers;
    private transient ScheduledExecutorService retryTimer;

    /** Sessions whose in-flight ticket should be sent as soon as a slot is free. */
    private transient ArrayDeque<String> ready;

    /** How many sessions have joined / left {@link #ready}: FIFO positions. */
    private transient long readyJoined;

    private transient long readyLeft;

    /** When the pending wake-up mail is due (System.currentTimeMillis), 0 when none is. */
    private transient long wakeUpAt;

    /** Sessions whose current ticket the primary rejected: only the fallback may answer it. */
    private transient Set<String> fallbackOnly;

    /** Sessions whose current ticket got an unusable answer and is being asked again. */
    private transient Map<String, Repair> repairs;

    /** The unusable answer a repair attempt shows the model, and what is wrong with it. */
    private record Repair(String ticketId, String answer, String problem) {}

    private transient Counter rateLimitWaits;
    private transient Counter llmSucceeded;
    private transient Counter llmRateLimited;
    private transient Counter llmServerErrors;
    private transient Counter llmTimeouts;
    private transient Counter llmRejected;
    private transient Counter llmInvalidAnswers;
    private transient Counter repairAttempts;
    private transient Counter fallbackCalls;
    private transient Counter incidentCacheHits;
    private transient Counter promptTokens;
    private transient Counter completionTokens;
    private transient Counter estimatedCostMicros;
    private transient Counter rateLimitWaitMs;
    private transient Histogram llmLatency;
    private transient Histogram ticketLatency;
    private transient Map<String, Counter> byLabel;

    private transient int callsInFlight;
    private transient int retriesScheduled;

    private transient Counter ticketsQueued;
    private transient Counter duplicateTickets;
    private transient Counter llmCalls;
    private transient Counter llmFailures;
    private transient Counter llmRetries;
    private transient Counter resultsEmitted;
    private transient Counter deadLetters;
    private transient Counter resumedAfterRestore;

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
        StateTtlConfig ttl =
                StateTtlConfig.newBuilder(settings.idleTimeout())
                        .updateTtlOnCreateAndWrite()
                        .neverReturnExpired()
                        .cleanupInRocksdbCompactFilter(1000) // RocksDB: dropped at compaction
                        .cleanupIncrementally(10, false) // heap backend: a few per access
                        .build();

        // The conversation expires after the idle timeout: turn counter, history, recent ids.
        var nextTurn = new ValueStateDescriptor<>("next-turn", Types.INT);
        var history =
                new ValueStateDescriptor<>("conversation-history", new ListTypeInfo<>(Turn.class));
        var recentIds = new ValueStateDescriptor<>("recent-ticket-ids", Types.LIST(Types.STRING));
        nextTurn.enableTimeToLive(ttl);
        history.enableTimeToLive(ttl);
        recentIds.enableTimeToLive(ttl);
        // Work items never expire: they are removed when answered, however long that takes.
        var queue =
                new ValueStateDescriptor<>("waiting-queue", TypeInformation.of(WaitingQueue.class));
        var waiting =
                new MapStateDescriptor<>(
                        "waiting-tickets", Types.LONG, TypeInformation.of(PendingTicket.class));
        inFlightDescriptor =
                new ValueStateDescriptor<>(
                        "in-flight-ticket", TypeInformation.of(PendingTicket.class));

        var store = context.getKeyedStateStore();
        nextTurnState = store.getState(nextTurn);
        historyState = store.getState(history);
        recentIdsState = store.getState(recentIds);
        queueState = store.getState(queue);
        waitingState = store.getMapState(waiting);
        inFlightState = store.getState(inFlightDescriptor);
    }

    @Override
    public void open() throws Exception {
        super.open();
        int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        // This subtask's share of the limits; a rescale re-opens the operator and re-splits them.
        gateway =
                new LlmGateway(
                        gatewaySettings,
                        clientFactory,
                        settings.maxInFlight(),
                        parallelism,
                        System.currentTimeMillis());
        incidentCache =
                gatewaySettings.incidentCache()
                        ? new IncidentCache(
                                gatewaySettings.incidentCacheWindow().toMillis(),
                                gatewaySettings.incidentCacheMaxEntries())
                        : null;
        prompts = new PromptBuilder(promptSettings);
        answers = new TriageAnswerParser(promptSettings.categories().keySet());
        ready = new ArrayDeque<>();
        fallbackOnly = new HashSet<>();
        repairs = new HashMap<>();
        retryTimer =
                Executors.newSingleThreadScheduledExecutor(
                        new ExecutorThreadFactory("llm-retry-timer"));
        registerMetrics();
        resumeInFlightTickets();
    }

    private void registerMetrics() {
        var metrics = getMetricGroup();
        ticketsQueued = metrics.counter("ticketsQueuedBehindSession");
        duplicateTickets = metrics.counter("duplicateTickets");
        llmCalls = metrics.counter("llmCalls");
        llmFailures = metrics.counter("llmFailures");
        llmRetries = metrics.counter("llmRetries");
        llmSucceeded = metrics.counter("llmSucceeded");
        llmRateLimited = metrics.counter("llmRateLimited");
        llmServerErrors = metrics.counter("llmServerErrors");
        llmTimeouts = metrics.counter("llmTimeouts");
        llmRejected = metrics.counter("llmRejected");
        llmInvalidAnswers = metrics.counter("llmInvalidAnswers");
        repairAttempts = metrics.counter("llmRepairAttempts");
        fallbackCalls = metrics.counter("llmFallbackCalls");
        incidentCacheHits = metrics.counter("incidentCacheHits");
        promptTokens = metrics.counter("promptTokens");
        completionTokens = metrics.counter("completionTokens");
        // Every billed reply at its endpoint's prices (llm.price.*), usable or not, in millionths.
        estimatedCostMicros = metrics.counter("estimatedCostMicros");
        rateLimitWaitMs = metrics.counter("rateLimitWaitMs");
        llmLatency = metrics.histogram("llmLatencyMs", new DescriptiveStatisticsHistogram(1000));
        ticketLatency =
                metrics.histogram("ticketLatencyMs", new DescriptiveStatisticsHistogram(1000));
        byLabel = new HashMap<>();
        resultsEmitted = metrics.counter("resultsEmitted");
        deadLetters = metrics.counter("deadLetters");
        resumedAfterRestore = metrics.counter("ticketsResumedAfterRestore");
        rateLimitWaits = metrics.counter("rateLimitWaits");
        metrics.gauge("callsInFlight", () -> callsInFlight);
        metrics.gauge("concurrencyLimit", () -> gateway.concurrencyLimit());
        metrics.gauge("sessionsReadyToSend", () -> ready.size());
        metrics.gauge("allowedRequestsPerMinute", () -> gateway.allowedRequestsPerMinute(0));
        // 0 closed, 1 half-open (probing), 2 open
        metrics.gauge("circuitState", () -> gateway.circuit(0).ordinal());
        metrics.gauge("circuitOpenings", () -> gateway.circuitOpenings(0));
        if (gateway.hasFallback()) {
            metrics.gauge("fallbackCircuitState", () -> gateway.circuit(1).ordinal());
        }
    }

    /**
     * After a restore, the calls that were in flight at the checkpoint are gone with the old
     * process: send each of them again. Only keys of this subtask's key groups are visited, so
     * after a rescale every session is resumed exactly once, by its new owner.
     */
    private void resumeInFlightTickets() throws Exception {
        long now = now();
        List<String> sendNow = new ArrayList<>();
        List<PendingTicket> retryLater = new ArrayList<>();
        this.<String>getKeyedStateBackend()
                .applyToAllKeys(
                        VoidNamespace.INSTANCE,
                        VoidNamespaceSerializer.INSTANCE,
                        inFlightDescriptor,
                        (String key, ValueState<PendingTicket> state) -> {
                            PendingTicket p = state.value();
                            if (p == null) {
                                return;
                            }
                            if (p.retryAt() > now) {
                                retryLater.add(p);
                            } else {
                                sendNow.add(key);
                            }
                        });
        for (PendingTicket p : retryLater) {
            scheduleSend(p.ticket().sessionId(), p.retryAt() - now);
        }
        sendNow.forEach(this::markReady);
        resumedAfterRestore.inc(sendNow.size() + retryLater.size());
        if (!ready.isEmpty() || !retryLater.isEmpty()) {
            LOG.info(
                    "Resuming {} in-flight tickets after restore ({} waiting for a retry).",
                    sendNow.size() + retryLater.size(),
                    retryLater.size());
        }
        drainReady();
    }

    @Override
    public void processElement(StreamRecord<Ticket> element) throws Exception {
        Ticket ticket = element.getValue();
        String session = ticket.sessionId();
        if (isDuplicate(ticket.ticketId())) {
            duplicateTickets.inc();
            LOG.debug("Dropping ticket {} of session {}: seen before", ticket.ticketId(), session);
            return;
        }
        Integer turn = nextTurnState.value();
        int thisTurn = turn == null ? 1 : turn;
        nextTurnState.update(thisTurn + 1);
        PendingTicket pending = new PendingTicket(ticket, thisTurn, 0, now(), 0L);

        if (inFlightState.value() != null) {
            // The session is busy: wait in keyed state, behind its earlier tickets.
            WaitingQueue queue = queueState.value();
            if (queue == null) {
                queue = WaitingQueue.EMPTY;
            }
            waitingState.put(queue.tail(), pending);
            queueState.update(queue.pushed());
            ticketsQueued.inc();
            return;
        }
        inFlightState.update(pending);
        long position = markReady(session);
        drainReady();
        // Backpressure: do not take the next input while more than maxBacklog tickets that came
        // before this one are still unsent. They are safe in keyed state, so up to that bound the
        // operator keeps taking input and checkpoints keep completing while the provider is away.
        // Sessions that become ready later queue behind this ticket, so the wait is bounded.
        while (readyLeft < position - settings.maxBacklog()) {
            mailbox.yield();
        }
    }

    /** Remembers the id in the session's bounded window; true when it was already there. */
    private boolean isDuplicate(String ticketId) throws Exception {
        List<String> recent = recentIdsState.value();
        if (recent != null && recent.contains(ticketId)) {
            return true;
        }
        List<String> updated = recent == null ? new ArrayList<>() : new ArrayList<>(recent);
        updated.add(ticketId);
        while (updated.size() > settings.dedupeWindow()) {
            updated.remove(0);
        }
        recentIdsState.update(updated);
        return false;
    }

    private long markReady(String session) {
        ready.add(session);
        return ++readyJoined;
    }

    /** Sends ready sessions while there is capacity, rate budget and a closed circuit. */
    private void drainReady() throws Exception {
        while (!ready.isEmpty() && callsInFlight < gateway.concurrencyLimit()) {
            long wait = send(ready.peek());
            if (wait > 0) {
                rateLimitWaitMs.inc(wait);
                scheduleWakeUp(wait); // rate budget or circuit: a wake-up mail drains again
                return;
            }
            ready.poll();
            readyLeft++;
        }
    }

    /** Wakes the operator when the gateway may let the next call through. */
    private void scheduleWakeUp(long delayMillis) {
        long at = System.currentTimeMillis() + delayMillis;
        if (wakeUpAt != 0 && wakeUpAt <= at) {
            return; // an earlier wake-up is already due
        }
        wakeUpAt = at;
        retryTimer.schedule(
                () -> {
                    try {
                        mailbox.execute(
                                () -> {
                                    if (wakeUpAt == at) {
                                        wakeUpAt = 0;
                                    }
                                    drainReady();
                                },
                                "llm gateway wake-up");
                    } catch (RejectedExecutionException e) {
                        // shutting down
                    }
                },
                delayMillis,
                TimeUnit.MILLISECONDS);
    }

    /**
     * Sends the session's in-flight ticket (or answers it from the incident cache). Returns 0 when
     * the ticket is on its way, else how long the gateway says to wait.
     */
    private long send(String session) throws Exception {
        Object previousKey = getCurrentKey();
        setCurrentKey(session);
        try {
            PendingTicket current = inFlightState.value();
            if (current == null) {
                // Cannot happen (work items do not expire); never strand the session's queue.
                LOG.warn("Session {} was ready without a ticket in flight", session);
                advance(session);
                return 0;
            }
            Ticket ticket = current.ticket();
            Repair repair = repairs.get(session);
            if (incidentCache != null
                    && current.turn() == 1
                    && current.attempts() == 0
                    && repair == null) {
                var hit =
                        incidentCache.get(
                                IncidentCache.normalize(ticket.subject(), ticket.body()), now());
                if (hit != null) {
                    incidentCacheHits.inc();
                    emitResult(current, hit.getKey(), hit.getValue(), 0, 0, true);
                    advance(session);
                    return 0;
                }
            }
            List<Turn> history = historyState.value();
            List<ChatMessage> messages =
                    new ArrayList<>(
                            prompts.messages(history == null ? List.of() : history, ticket));
            if (repair != null) {
                messages.add(
                        ChatMessage.assistant(
                                repair.answer() == null ? "(no answer)" : repair.answer()));
                messages.add(ChatMessage.user(PromptBuilder.repairRequest(repair.problem())));
            }
            var route =
                    gateway.route(
                            System.currentTimeMillis(),
                            TokenEstimate.requestTokens(
                                    messages, gatewaySettings.maxOutputTokens()),
                            fallbackOnly.contains(session));
            if (!route.go()) {
                rateLimitWaits.inc();
                return Math.max(1, route.waitMillis());
            }
            PendingTicket sent = current.sent();
            inFlightState.update(sent);
            callsInFlight++;
            llmCalls.inc();
            if (route.endpoint() > 0) {
                fallbackCalls.inc();
            }
            String ticketId = ticket.ticketId();
            int attempt = sent.attempts();
            int endpoint = route.endpoint();
            long sentNanos = System.nanoTime();
            try {
                gateway.client(endpoint)
                        .complete(messages, prompts.answerSchema())
                        .whenComplete(
                                (reply, error) -> {
                                    llmLatency.update((System.nanoTime() - sentNanos) / 1_000_000);
                                    handBack(session, ticketId, attempt, endpoint, reply, error);
                                });
            } catch (RuntimeException e) {
                handBack(session, ticketId, attempt, endpoint, null, e);
            }
            return 0;
        } finally {
            restoreKey(previousKey);
        }
    }

    /** Runs on an I/O thread: only enqueue a mail, never touch state here. */
    private void handBack(
            String session,
            String ticketId,
            int attempt,
            int endpoint,
            LlmReply reply,
            Throwable error) {
        try {
            mailbox.execute(
                    () -> onCompletion(session, ticketId, attempt, endpoint, reply, error),
                    "llm completion for session %s",
                    session);
        } catch (RejectedExecutionException e) {
            // The task is shutting down; the ticket is still in flight in the last checkpoint.
        }
    }

    private void onCompletion(
            String session,
            String ticketId,
            int attempt,
            int endpoint,
            LlmReply reply,
            Throwable error)
            throws Exception {
        callsInFlight--;
        Object previousKey = getCurrentKey();
        setCurrentKey(session);
        try {
            PendingTicket current = inFlightState.value();
            if (current == null
                    || !current.ticket().ticketId().equals(ticketId)
                    || current.attempts() != attempt) {
                LOG.debug(
                        "Ignoring a stale completion for ticket {} of session {}",
                        ticketId,
                        session);
            } else if (error != null) {
                onFailure(session, current, endpoint, unwrap(error));
            } else {
                onReply(session, current, endpoint, reply);
            }
        } finally {
            restoreKey(previousKey);
        }
        drainReady();
    }

    private void onReply(String session, PendingTicket current, int endpoint, LlmReply reply)
            throws Exception {
        gateway.onReply(endpoint, System.currentTimeMillis(), reply, callsInFlight + 1);
        estimatedCostMicros.inc(
                Math.round(
                        1e6
                                * gateway.settings(endpoint)
                                        .cost(reply.promptTokens(), reply.completionTokens())));
        TriageAnswer answer;
        try {
            if (reply.content() == null) {
                throw new InvalidAnswerException(
                        reply.refusal() != null
                                ? "model refused: " + reply.refusal()
                                : "answer has no content");
            }
            if ("length".equals(reply.finishReason())) {
                throw new InvalidAnswerException("answer was cut off at the output token limit");
            }
            answer = answers.parse(reply.content());
        } catch (InvalidAnswerException e) {
            onUnusableAnswer(session, current, reply.content(), e.getMessage());
            return;
        }
        llmSucceeded.inc();
        emitResult(
                current,
                answer,
                reply.model(),
                reply.promptTokens(),
                reply.completionTokens(),
                false);
        if (incidentCache != null && current.turn() == 1 && !repairs.containsKey(session)) {
            Ticket t = current.ticket();
            incidentCache.put(
                    IncidentCache.normalize(t.subject(), t.body()), answer, reply.model(), now());
        }
        advance(session);
    }

    private void emitResult(
            PendingTicket current,
            TriageAnswer answer,
            String model,
            int usedPromptTokens,
            int usedCompletionTokens,
            boolean cached)
            throws Exception {
        Ticket ticket = current.ticket();
        long now = now();
        var result =
                new TriageResult(
                        ticket.ticketId(),
                        ticket.sessionId(),
                        ticket.customerId(),
                        current.turn(),
                        answer.category(),
                        priorityRules.apply(
                                answer.priority(),
                                answer.sentiment(),
                                ticket.customer(),
                                ticket.createdAt()),
                        answer.sentiment(),
                        answer.summary(),
                        answer.draftReply(),
                        answer.confidence(),
                        model,
                        current.attempts(),
                        usedPromptTokens,
                        usedCompletionTokens,
                        ticket.createdAt(),
                        now,
                        Math.max(0, now - current.acceptedAt()),
                        cached);
        output.collect(new StreamRecord<>(result, ticket.createdAt()));
        resultsEmitted.inc();
        promptTokens.inc(usedPromptTokens);
        completionTokens.inc(usedCompletionTokens);
        ticketLatency.update(result.latencyMs());
        labelled("category", result.category(), "results").inc();
        labelled("priority", result.priority(), "results").inc();
        trace(current, cached ? "cached" : "answered", result.category());
        appendHistory(current, answer);
    }

    /**
     * A malformed, truncated, refused or off-schema answer: one repair attempt that shows the model
     * its answer and the problem, then the dead-letter topic with the raw answer.
     */
    private void onUnusableAnswer(
            String session, PendingTicket current, String rawAnswer, String problem)
            throws Exception {
        llmInvalidAnswers.inc();
        String ticketId = current.ticket().ticketId();
        Repair earlier = repairs.get(session);
        if (gatewaySettings.repairInvalidAnswers()
                && (earlier == null || !earlier.ticketId().equals(ticketId))) {
            repairs.put(session, new Repair(ticketId, rawAnswer, problem));
            repairAttempts.inc();
            markReady(session);
            return;
        }
        String detail =
                earlier != null && earlier.ticketId().equals(ticketId)
                        ? problem
                                + " (also after a repair attempt; first: "
                                + earlier.problem()
                                + ")"
                        : problem;
        emitDeadLetter(
                DeadLetter.ofTicket(
                        Reason.LLM_INVALID_OUTPUT, detail, current.ticket(), rawAnswer, now()));
        advance(session);
    }

    private void onFailure(String session, PendingTicket current, int endpoint, LlmException e)
            throws Exception {
        llmFailures.inc();
        long wallClock = System.currentTimeMillis();
        gateway.onFailure(endpoint, wallClock, e);
        if (e.kind() == LlmException.Kind.INVALID_RESPONSE) {
            onUnusableAnswer(session, current, e.responseBody(), e.getMessage());
            return;
        }
        if (e.status() == 429 && e.retriable()) {
            llmRateLimited.inc();
        } else if (e.kind() == LlmException.Kind.TIMEOUT) {
            llmTimeouts.inc();
        } else if (e.retriable()) {
            llmServerErrors.inc();
        } else {
            llmRejected.inc();
        }
        if (!e.retriable()) {
            if (endpoint == 0
                    && gateway.hasFallback()
                    && e.kind() == LlmException.Kind.HTTP_STATUS
                    && fallbackOnly.add(session)) {
                markReady(session); // the primary rejected it: the fallback may answer at once
                return;
            }
            deadLetter(session, current, Reason.LLM_REJECTED, e, null);
            return;
        }
        // An outage is the provider's fault, not the ticket's: it waits for the circuit to close
        // instead of using up its attempts into the dead-letter topic.
        boolean used =
                current.attempts() >= gatewaySettings.maxAttempts()
                        || now() - current.acceptedAt()
                                > gatewaySettings.ticketDeadline().toMillis();
        if (used && !gateway.outage()) {
            deadLetter(session, current, Reason.LLM_UNAVAILABLE, e, null);
            return;
        }
        long delay =
                RetryAdvice.backoffMillis(
                        current.attempts(),
                        e.retryAfterMillis(),
                        gatewaySettings.initialBackoff().toMillis(),
                        gatewaySettings.maxBackoff().toMillis(),
                        gatewaySettings.maxAdvisedWait().toMillis(),
                        ThreadLocalRandom.current().nextDouble());
        inFlightState.update(current.retryingAt(now() + delay));
        llmRetries.inc();
        scheduleSend(session, delay);
    }

    private void deadLetter(
            String session, PendingTicket current, Reason reason, LlmException e, String raw)
            throws Exception {
        String detail = e.getMessage() + " (after " + current.attempts() + " attempt(s))";
        LOG.warn(
                "Ticket {} of session {} goes to the DLQ: {}",
                current.ticket().ticketId(),
                session,
                detail);
        emitDeadLetter(DeadLetter.ofTicket(reason, detail, current.ticket(), raw, now()));
        advance(session);
    }

    /** The session's current ticket is done: start its next waiting ticket, if any. */
    private void advance(String session) throws Exception {
        inFlightState.clear();
        fallbackOnly.remove(session);
        repairs.remove(session);
        WaitingQueue queue = queueState.value();
        if (queue == null || queue.isEmpty()) {
            queueState.clear();
            return;
        }
        PendingTicket next = waitingState.get(queue.head());
        waitingState.remove(queue.head());
        WaitingQueue rest = queue.popped();
        if (rest.isEmpty()) {
            queueState.clear();
        } else {
            queueState.update(rest);
        }
        inFlightState.update(next);
        markReady(session);
    }

    private void appendHistory(PendingTicket current, TriageAnswer answer) throws Exception {
        List<Turn> history = historyState.value();
        List<Turn> updated = history == null ? new ArrayList<>() : new ArrayList<>(history);
        String text = PromptBuilder.ticketText(current.ticket());
        int maxTextChars = Math.max(200, settings.historyChars() / 2);
        if (text.length() > maxTextChars) {
            text = text.substring(0, maxTextChars) + " [...]";
        }
        updated.add(new Turn(current.turn(), current.ticket().ticketId(), text, answer.toJson()));
        int chars = updated.stream().mapToInt(Turn::chars).sum();
        while (!updated.isEmpty()
                && (updated.size() > settings.historyTurns() || chars > settings.historyChars())) {
            chars -= updated.remove(0).chars();
        }
        historyState.update(updated);
        // Refresh the turn counter's TTL with the history, so neither outlives the other.
        Integer turn = nextTurnState.value();
        nextTurnState.update(turn == null ? current.turn() + 1 : turn);
    }

    private void emitDeadLetter(DeadLetter letter) {
        output.collect(DeadLetter.OUTPUT_TAG, new StreamRecord<>(letter, letter.failedAt()));
        deadLetters.inc();
        labelled("reason", letter.reason(), "deadLetters").inc();
        if (TRACE.isInfoEnabled()) {
            TRACE.info(
                    "ticket={} session={} outcome=dead_letter reason={} detail=\"{}\"",
                    letter.ticketId(),
                    letter.sessionId(),
                    letter.reason(),
                    letter.detail());
        }
    }

    /** A counter in a labelled sub-group (Prometheus: a label), created on first use. */
    private Counter labelled(String key, String value, String name) {
        return byLabel.computeIfAbsent(
                key + '\u0000' + value + '\u0000' + name,
                k -> getMetricGroup().addGroup(key, value).counter(name));
    }

    /**
     * One structured line per answered ticket on the {@code dev.triage.trace} logger, off unless
     * that logger is set to INFO (see flink-conf/log4j.properties).
     */
    private void trace(PendingTicket p, String outcome, String category) {
        if (TRACE.isInfoEnabled()) {
            TRACE.info(
                    "ticket={} session={} turn={} outcome={} category={} attempts={} latency_ms={}",
                    p.ticket().ticketId(),
                    p.ticket().sessionId(),
                    p.turn(),
                    outcome,
                    category,
                    p.attempts(),
                    Math.max(0, now() - p.acceptedAt()));
        }
    }

    /** Sends the session's in-flight ticket again after a delay, without blocking anything. */
    private void scheduleSend(String session, long delayMillis) {
        retriesScheduled++;
        retryTimer.schedule(
                () -> {
                    try {
                        mailbox.execute(
                                () -> {
                                    retriesScheduled--;
                                    markReady(session);
                                    drainReady();
                                },
                                "llm retry for session %s",
                                session);
                    } catch (RejectedExecutionException e) {
                        // shutting down; the retry is recorded in state and resumes after restore
                    }
                },
                delayMillis,
                TimeUnit.MILLISECONDS);
    }

    @Override
    public void finish() throws Exception {
        // End of a bounded input (or stop with --drain): answer everything that was accepted.
        while (callsInFlight > 0 || !ready.isEmpty() || retriesScheduled > 0) {
            mailbox.yield();
        }
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            if (retryTimer != null) {
                retryTimer.shutdownNow();
            }
            if (gateway != null) {
                gateway.close();
            }
        } finally {
            super.close();
        }
    }

    private void restoreKey(Object previousKey) {
        if (previousKey != null) {
            setCurrentKey(previousKey);
        }
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    private static LlmException unwrap(Throwable error) {
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
}
