package dev.triage.session;

import dev.triage.config.GatewaySettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.SessionSettings;
import dev.triage.io.Json;
import dev.triage.llm.ChatMessage;
import dev.triage.llm.Endpoint;
import dev.triage.llm.IncidentCache;
import dev.triage.llm.LlmClientFactory;
import dev.triage.llm.LlmException;
import dev.triage.llm.LlmGateway;
import dev.triage.llm.LlmReply;
import dev.triage.llm.RetryAdvice;
import dev.triage.llm.TokenEstimate;
import dev.triage.llm.TriageAnswer;
import dev.triage.llm.TriageAnswerParser;
import dev.triage.llm.TriageAnswerParser.InvalidAnswerException;
import dev.triage.prompt.PromptBuilder;
import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetter.Reason;
import dev.triage.records.DraftReplyFlags;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
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

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;

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
        implements OneInputStreamOperator<Ticket, TriageResult>,
                Triggerable<String, VoidNamespace> {

    /**
     * The layout of this operator's state: 1 (0.1, conversation state with Flink TTL), 2 (idle
     * expiry by keyed timer, with a {@code last-activity} entry per session).
     */
    static final int STATE_LAYOUT = 2;

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
    private transient ValueState<Long> lastActivityState;
    private transient ValueStateDescriptor<PendingTicket> inFlightDescriptor;
    private transient ValueStateDescriptor<WaitingQueue> queueDescriptor;
    private transient ValueStateDescriptor<Integer> nextTurnDescriptor;

    /** Operator state: the state layout the snapshot was written with (union: every subtask). */
    private transient ListState<Integer> layoutState;

    private transient boolean restored;
    private transient int restoredLayout;

    /** Layout 1's conversation state (with TTL), read once by {@link #migrateLayout1}. */
    private transient ValueStateDescriptor<Integer> legacyNextTurn;

    private transient ValueStateDescriptor<List<Turn>> legacyHistory;
    private transient ValueStateDescriptor<List<String>> legacyRecentIds;

    /** One processing-time timer per known session: its idle expiry. */
    private transient InternalTimerService<VoidNamespace> expiryTimers;

    // ------------------------------------------------------------ in memory only
    private transient LlmGateway gateway;
    private transient IncidentCache incidentCache;
    private transient PromptBuilder prompts;
    private transient TriageAnswerParser answers;

    /** Sessions whose in-flight ticket should be sent as soon as a slot is free, in FIFO order. */
    private transient ArrayDeque<String> ready;

    /** The sessions in {@link #ready}: a session is ready at most once. */
    private transient Set<String> readySet;

    /**
     * Ready sessions set aside because only an endpoint whose circuit is open may answer them
     * (fallback-only tickets): they must not hold up the sessions behind them.
     */
    private transient List<String> parked;

    /** Sessions waiting for a retry, and when it is due (processing time). */
    private transient Map<String, Long> retryDue;

    /**
     * Tickets accepted and not yet answered or dead-lettered on this subtask: in flight (on the
     * wire or waiting for a retry) or waiting behind their session. Rebuilt from state on restore.
     */
    private transient long pendingTickets;

    /** finish() has begun: processing-time timers are quiesced, retries use {@link #lateTimer}. */
    private transient boolean finishing;

    private transient java.util.concurrent.ScheduledExecutorService lateTimer;

    /** When the pending wake-up is due (processing time), 0 when none is. */
    private transient long wakeUpAt;

    /** Sessions whose current ticket the primary rejected: only the fallback may answer it. */
    private transient Set<String> fallbackOnly;

    /** Sessions whose current ticket got an unusable answer and is being asked again. */
    private transient Map<String, Repair> repairs;

    /** The unusable answer a repair attempt shows the model, and what is wrong with it. */
    private record Repair(String ticketId, String answer, String problem) {}

    /**
     * Per session whose current ticket was sent: the endpoint and its answer count when that call
     * went out. The ticket's next failure on the same endpoint counts only if the endpoint answered
     * something since (LlmGateway.Route#since). In memory only: after a restore the window starts
     * at the next call, which only makes the gateway more careful.
     */
    private transient Map<String, long[]> previousCall;

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

    private transient Counter ticketsQueued;
    private transient Counter duplicateTickets;
    private transient Counter llmCalls;
    private transient Counter llmFailures;
    private transient Counter llmRetries;
    private transient Counter resultsEmitted;
    private transient Counter deadLetters;
    private transient Counter resumedAfterRestore;
    private transient Counter sessionsExpired;

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
        // No Flink state TTL: a TTL measures time since the last write of each entry, so a
        // conversation with a ticket stuck in an outage (or a job that was down overnight) would
        // lose its turn counter and history under that ticket. A keyed timer per session deletes
        // the conversation after the idle timeout instead, and only when nothing is in flight or
        // waiting (see onProcessingTime). Layout 1 (0.1) kept these three under other names with
        // TTL; Flink cannot drop TTL from existing state on every backend, so they moved to new
        // names and are migrated once (migrateLayout1).
        nextTurnDescriptor = new ValueStateDescriptor<>("session-next-turn", Types.INT);
        var history = new ValueStateDescriptor<>("session-history", new ListTypeInfo<>(Turn.class));
        var recentIds = new ValueStateDescriptor<>("session-recent-ids", Types.LIST(Types.STRING));
        var lastActivity = new ValueStateDescriptor<>("last-activity", Types.LONG);
        queueDescriptor =
                new ValueStateDescriptor<>("waiting-queue", TypeInformation.of(WaitingQueue.class));
        var waiting =
                new MapStateDescriptor<>(
                        "waiting-tickets", Types.LONG, TypeInformation.of(PendingTicket.class));
        inFlightDescriptor =
                new ValueStateDescriptor<>(
                        "in-flight-ticket", TypeInformation.of(PendingTicket.class));

        var store = context.getKeyedStateStore();
        nextTurnState = store.getState(nextTurnDescriptor);
        historyState = store.getState(history);
        recentIdsState = store.getState(recentIds);
        lastActivityState = store.getState(lastActivity);
        queueState = store.getState(queueDescriptor);
        waitingState = store.getMapState(waiting);
        inFlightState = store.getState(inFlightDescriptor);

        layoutState =
                context.getOperatorStateStore()
                        .getUnionListState(new ListStateDescriptor<>("state-layout", Types.INT));
        restored = context.isRestored();
        restoredLayout = restored ? 1 : STATE_LAYOUT;
        for (Integer v : layoutState.get()) {
            restoredLayout = Math.max(restoredLayout, v);
        }
        if (restoredLayout < 2) {
            StateTtlConfig ttl =
                    StateTtlConfig.newBuilder(settings.idleTimeout())
                            .updateTtlOnCreateAndWrite()
                            // Read what is still there: a conversation under work in flight
                            // must survive an upgrade restored later than the idle timeout.
                            .returnExpiredIfNotCleanedUp()
                            // and clean nothing up while the migration reads it
                            .disableCleanupInBackground()
                            .build();
            legacyNextTurn = new ValueStateDescriptor<>("next-turn", Types.INT);
            legacyHistory =
                    new ValueStateDescriptor<>(
                            "conversation-history", new ListTypeInfo<>(Turn.class));
            legacyRecentIds =
                    new ValueStateDescriptor<>("recent-ticket-ids", Types.LIST(Types.STRING));
            legacyNextTurn.enableTimeToLive(ttl);
            legacyHistory.enableTimeToLive(ttl);
            legacyRecentIds.enableTimeToLive(ttl);
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        layoutState.update(List.of(STATE_LAYOUT));
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
                        now(),
                        restored);
        incidentCache =
                gatewaySettings.incidentCache()
                        ? new IncidentCache(
                                gatewaySettings.incidentCacheWindow().toMillis(),
                                gatewaySettings.incidentCacheMaxEntries())
                        : null;
        prompts = new PromptBuilder(promptSettings);
        answers =
                new TriageAnswerParser(
                        promptSettings.categories().keySet(),
                        promptSettings.maxSummaryChars(),
                        promptSettings.maxDraftReplyChars());
        ready = new ArrayDeque<>();
        readySet = new HashSet<>();
        parked = new ArrayList<>();
        retryDue = new HashMap<>();
        expiryTimers =
                getInternalTimerService("session-expiry", VoidNamespaceSerializer.INSTANCE, this);
        fallbackOnly = new HashSet<>();
        repairs = new HashMap<>();
        previousCall = new HashMap<>();
        registerMetrics();
        if (restoredLayout < 2) {
            migrateLayout1();
        }
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
        sessionsExpired = metrics.counter("sessionsExpired");
        metrics.gauge("ticketsPending", () -> pendingTickets);
        rateLimitWaits = metrics.counter("rateLimitWaits");
        metrics.gauge("callsInFlight", () -> callsInFlight);
        metrics.gauge("concurrencyLimit", () -> gateway.concurrencyLimit());
        metrics.gauge("sessionsReadyToSend", () -> ready.size());
        metrics.gauge(
                "allowedRequestsPerMinute",
                () -> gateway.allowedRequestsPerMinute(Endpoint.PRIMARY));
        // 0 closed, 1 half-open (probing), 2 open
        metrics.gauge("circuitState", () -> gateway.circuit(Endpoint.PRIMARY).ordinal());
        metrics.gauge("circuitOpenings", () -> gateway.circuitOpenings(Endpoint.PRIMARY));
        if (gateway.hasFallback()) {
            metrics.gauge(
                    "fallbackCircuitState", () -> gateway.circuit(Endpoint.FALLBACK).ordinal());
        }
    }

    /**
     * After a restore, the calls that were in flight at the checkpoint are gone with the old
     * process: send each of them again. Only keys of this subtask's key groups are visited, so
     * after a rescale every session is resumed exactly once, by its new owner. Also rebuilds the
     * count of pending tickets, which the backlog bound uses.
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
        pendingTickets = sendNow.size() + retryLater.size();
        this.<String>getKeyedStateBackend()
                .applyToAllKeys(
                        VoidNamespace.INSTANCE,
                        VoidNamespaceSerializer.INSTANCE,
                        queueDescriptor,
                        (String key, ValueState<WaitingQueue> state) -> {
                            WaitingQueue q = state.value();
                            if (q != null) {
                                pendingTickets += q.size();
                            }
                        });
        for (PendingTicket p : retryLater) {
            scheduleSend(p.ticket().sessionKey(), p.retryAt() - now);
        }
        sendNow.forEach(this::markReady);
        resumedAfterRestore.inc(sendNow.size() + retryLater.size());
        if (pendingTickets > 0) {
            LOG.info(
                    "Resuming {} in-flight tickets after restore ({} waiting for a retry); {}"
                            + " tickets pending in all.",
                    sendNow.size() + retryLater.size(),
                    retryLater.size(),
                    pendingTickets);
        }
        drainReady();
    }

    /**
     * A snapshot of layout 1 (0.1) keeps the conversation under TTL'd state of other names and has
     * no expiry timers: move every session's conversation to the current state and arm its expiry
     * from now. Runs once, on the first restore from such a snapshot; later snapshots hold none of
     * the old state.
     */
    private void migrateLayout1() throws Exception {
        var backend = this.<String>getKeyedStateBackend();
        Set<String> sessions = new java.util.LinkedHashSet<>();
        backend.applyToAllKeys(
                VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE,
                legacyNextTurn,
                (String key, ValueState<Integer> state) -> sessions.add(key));
        backend.applyToAllKeys(
                VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE,
                legacyHistory,
                (String key, ValueState<List<Turn>> state) -> sessions.add(key));
        backend.applyToAllKeys(
                VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE,
                legacyRecentIds,
                (String key, ValueState<List<String>> state) -> sessions.add(key));
        ValueState<Integer> oldTurn =
                backend.getPartitionedState(
                        VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, legacyNextTurn);
        ValueState<List<Turn>> oldHistory =
                backend.getPartitionedState(
                        VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, legacyHistory);
        ValueState<List<String>> oldIds =
                backend.getPartitionedState(
                        VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, legacyRecentIds);
        Object previousKey = getCurrentKey();
        for (String session : sessions) {
            setCurrentKey(session);
            Integer turn = oldTurn.value();
            List<Turn> turns = oldHistory.value();
            List<String> ids = oldIds.value();
            if (turn != null) {
                nextTurnState.update(turn);
            }
            if (turns != null) {
                historyState.update(turns);
            }
            if (ids != null) {
                recentIdsState.update(ids);
            }
            oldTurn.clear();
            oldHistory.clear();
            oldIds.clear();
            touch();
        }
        restoreKey(previousKey);
        LOG.info("Migrated the conversations of {} sessions from state layout 1.", sessions.size());
    }

    @Override
    public void processElement(StreamRecord<Ticket> element) throws Exception {
        Ticket ticket = element.getValue();
        String session = ticket.sessionKey();
        expireIfIdle();
        String seen = recall(ticket);
        if (seen != null) {
            if (seen.equals(fingerprint(ticket))) {
                duplicateTickets.inc();
                LOG.debug(
                        "Dropping ticket {} of session {}: seen before",
                        ticket.ticketId(),
                        session);
            } else {
                // Same id, other content: not an upstream retry, and answering it would give one
                // ticket id two outcomes. Say so instead of dropping it.
                emitDeadLetter(
                        DeadLetter.ofTicket(
                                Reason.DUPLICATE_TICKET_ID,
                                "ticket id "
                                        + ticket.ticketId()
                                        + " was already used in this session for a ticket with"
                                        + " other content; give each ticket its own id",
                                ticket,
                                null,
                                now()));
            }
            return;
        }
        PendingTicket inFlight = inFlightState.value();
        WaitingQueue queue = null;
        if (inFlight != null) {
            queue = queueState.value();
            if (queue == null) {
                queue = WaitingQueue.EMPTY;
            }
            if (queue.size() >= settings.maxQueuedPerSession()) {
                emitDeadLetter(
                        DeadLetter.ofTicket(
                                Reason.SESSION_BACKLOG_FULL,
                                "session "
                                        + session
                                        + " already has "
                                        + queue.size()
                                        + " tickets waiting (session.max-queued-per-session)",
                                ticket,
                                null,
                                now()));
                return;
            }
        }
        remember(ticket);
        Integer turn = nextTurnState.value();
        int thisTurn = turn == null ? 1 : turn;
        nextTurnState.update(thisTurn + 1);
        touch();
        PendingTicket pending = new PendingTicket(ticket, thisTurn, now());
        pendingTickets++;

        if (inFlight != null) {
            // The session is busy: wait in keyed state, behind its earlier tickets.
            waitingState.put(queue.tail(), pending);
            queueState.update(queue.pushed());
            ticketsQueued.inc();
        } else {
            inFlightState.update(pending);
            markReady(session);
            drainReady();
        }
        // Backpressure: do not take the next input while more than maxBacklog accepted tickets
        // are unsent (waiting behind their session, for a call slot, for rate budget, for a retry
        // or for the provider). They are safe in keyed state, so up to that bound the operator
        // keeps taking input and checkpoints keep completing while the provider is away; beyond
        // it, checkpoints wait too (docs/design.md, "Outages").
        while (pendingTickets - callsInFlight > settings.maxBacklog()) {
            mailbox.yield();
        }
    }

    /**
     * The fingerprint the session remembered for this ticket's id; null when the id is new. The
     * window holds {@code '\u0000' + fingerprint (32 hex digits) + id}, so any id, NULs included,
     * is compared whole; ids from the 0.1 layout are bare and match any content.
     */
    private String recall(Ticket ticket) throws Exception {
        List<String> recent = recentIdsState.value();
        if (recent == null) {
            return null;
        }
        String id = ticket.ticketId();
        for (String entry : recent) {
            if (isEntryFor(entry, id)) {
                return isLegacyEntry(entry) ? fingerprint(ticket) : entry.substring(1, 1 + FP);
            }
        }
        return null;
    }

    /** Whether the window entry is the given id's, without copying it (hot path). */
    private static boolean isEntryFor(String entry, String id) {
        if (isLegacyEntry(entry)) {
            return entry.equals(id);
        }
        return entry.length() == 1 + FP + id.length() && entry.startsWith(id, 1 + FP);
    }

    private static final int FP = 32;

    private static boolean isLegacyEntry(String entry) {
        return entry.length() < 1 + FP || entry.charAt(0) != '\u0000';
    }

    /** Adds the ticket to the session's bounded window of recent ids. */
    private void remember(Ticket ticket) throws Exception {
        List<String> recent = recentIdsState.value();
        List<String> updated = recent == null ? new ArrayList<>() : new ArrayList<>(recent);
        updated.add('\u0000' + fingerprint(ticket) + ticket.ticketId());
        while (updated.size() > settings.dedupeWindow()) {
            updated.remove(0);
        }
        recentIdsState.update(updated);
    }

    /** Forgets a ticket id: a dead-lettered ticket may be sent again, and is then triaged. */
    private void forget(Ticket ticket) throws Exception {
        List<String> recent = recentIdsState.value();
        if (recent == null) {
            return;
        }
        String id = ticket.ticketId();
        List<String> updated = new ArrayList<>(recent.size());
        for (String entry : recent) {
            if (!isEntryFor(entry, id)) {
                updated.add(entry);
            }
        }
        if (updated.size() != recent.size()) {
            recentIdsState.update(updated);
        }
    }

    /**
     * What makes a re-sent ticket the same ticket: its content, not its source offset. 128 bits of
     * SHA-256, so nobody can make two contents collide on purpose.
     */
    static String fingerprint(Ticket t) {
        java.security.MessageDigest sha;
        try {
            sha = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (String part : new String[] {t.customerId(), t.channel(), t.subject(), t.body()}) {
            if (part == null) {
                sha.update((byte) 0);
                continue;
            }
            byte[] bytes = part.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            sha.update((byte) 1);
            sha.update(java.nio.ByteBuffer.allocate(4).putInt(bytes.length).array());
            sha.update(bytes);
        }
        sha.update(java.nio.ByteBuffer.allocate(8).putLong(t.createdAt()).array());
        return java.util.HexFormat.of().formatHex(sha.digest(), 0, FP / 2);
    }

    /**
     * The session did something: it lives for another idle timeout. One expiry timer per session at
     * a time, armed when the session first appears and re-armed when it fires.
     */
    private void touch() throws Exception {
        Long last = lastActivityState.value();
        long now = now();
        lastActivityState.update(now);
        if (last == null) {
            expiryTimers.registerProcessingTimeTimer(
                    VoidNamespace.INSTANCE, now + settings.idleTimeout().toMillis());
        }
    }

    /**
     * Deletes the current session's conversation if it has been idle for the timeout and has no
     * work: the expiry timer does this too, but after a restore the source may deliver replayed
     * tickets before the timers that fell due during the downtime have fired.
     */
    private void expireIfIdle() throws Exception {
        Long last = lastActivityState.value();
        if (last == null || now() < last + settings.idleTimeout().toMillis()) {
            return;
        }
        if (inFlightState.value() != null || queueState.value() != null) {
            return;
        }
        expire();
    }

    private void expire() {
        nextTurnState.clear();
        historyState.clear();
        recentIdsState.clear();
        lastActivityState.clear();
        sessionsExpired.inc();
    }

    @Override
    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        // The current key is the timer's session.
        Long last = lastActivityState.value();
        if (last == null) {
            return;
        }
        long now = now(); // after a restore, timers fall due late: judge by the clock
        long idle = settings.idleTimeout().toMillis();
        boolean busy = inFlightState.value() != null || queueState.value() != null;
        if (busy || now < last + idle) {
            // Never expire under work in flight or waiting, whatever the clock says.
            expiryTimers.registerProcessingTimeTimer(
                    VoidNamespace.INSTANCE, Math.max(now, last) + idle);
            return;
        }
        expire();
    }

    @Override
    public void onEventTime(InternalTimer<String, VoidNamespace> timer) {
        // The job uses processing time only.
    }

    private void markReady(String session) {
        if (readySet.add(session)) {
            ready.add(session);
        }
    }

    /** Sends ready sessions while there is capacity, rate budget and a closed circuit. */
    private void drainReady() throws Exception {
        while (!ready.isEmpty() && callsInFlight < gateway.concurrencyLimit()) {
            // Out of the queue before sending: a cache hit that starts the session's next ticket
            // makes it ready again, and must find it gone.
            String session = ready.poll();
            readySet.remove(session);
            long wait = send(session);
            if (wait <= 0) {
                continue;
            }
            if (fallbackOnly.contains(session) && !ready.isEmpty()) {
                // Only the fallback may answer it and the fallback is not available: let the
                // sessions behind it go to the primary meanwhile.
                parked.add(session);
                scheduleWakeUp(wait);
                continue;
            }
            if (readySet.add(session)) {
                ready.addFirst(session); // keeps its place
            }
            rateLimitWaitMs.inc(wait);
            scheduleWakeUp(wait); // rate budget or circuit: a wake-up drains again
            return;
        }
    }

    /** Wakes the operator when the gateway may let the next call through. */
    private void scheduleWakeUp(long delayMillis) {
        long at = now() + delayMillis;
        if (wakeUpAt != 0 && wakeUpAt <= at) {
            return; // an earlier wake-up is already due
        }
        wakeUpAt = at;
        schedule(
                at,
                () -> {
                    if (wakeUpAt == at) {
                        wakeUpAt = 0;
                    }
                    unpark();
                    drainReady();
                });
    }

    /** Parked sessions go back to the front of the ready queue, in their order. */
    private void unpark() {
        for (int i = parked.size() - 1; i >= 0; i--) {
            String session = parked.get(i);
            if (readySet.add(session)) {
                ready.addFirst(session);
            }
        }
        parked.clear();
    }

    /** Runs {@code action} on the task thread at processing time {@code at}. */
    private void schedule(
            long at, org.apache.flink.util.function.ThrowingRunnable<Exception> action) {
        if (!finishing) {
            getProcessingTimeService().registerTimer(at, time -> action.run());
            return;
        }
        // finish() quiesces the processing-time service: its timers no longer fire.
        if (lateTimer == null) {
            lateTimer =
                    java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                            new org.apache.flink.util.concurrent.ExecutorThreadFactory(
                                    "llm-retry-timer"));
        }
        lateTimer.schedule(
                () -> {
                    try {
                        mailbox.execute(action::run, "late llm timer");
                    } catch (RejectedExecutionException e) {
                        // shutting down; the retry is in state and resumes after a restore
                    }
                },
                Math.max(0, at - now()),
                java.util.concurrent.TimeUnit.MILLISECONDS);
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
                startNext(session);
                return 0;
            }
            Ticket ticket = current.ticket();
            Repair repair = repairs.get(session);
            if (incidentCache != null
                    && current.turn() == 1
                    && current.attempts() == 0
                    && repair == null) {
                var hit = incidentCache.get(IncidentCache.key(ticket), now());
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
            var routed =
                    gateway.route(
                            now(),
                            TokenEstimate.requestTokens(
                                    messages, gatewaySettings.maxOutputTokens()),
                            fallbackOnly.contains(session));
            if (!routed.go()) {
                rateLimitWaits.inc();
                return Math.max(1, routed.waitMillis());
            }
            long[] previous =
                    previousCall.put(
                            session,
                            new long[] {routed.endpoint().ordinal(), routed.answersAtSend()});
            var route =
                    (previous != null && previous[0] == routed.endpoint().ordinal()
                                    ? routed.since(previous[1])
                                    : routed)
                            .by(session.hashCode());
            PendingTicket sent = current.sent(now());
            inFlightState.update(sent);
            callsInFlight++;
            llmCalls.inc();
            if (route.endpoint() != Endpoint.PRIMARY) {
                fallbackCalls.inc();
            }
            String ticketId = ticket.ticketId();
            int attempt = sent.attempts();
            Endpoint endpoint = route.endpoint();
            long sentNanos = System.nanoTime();
            try {
                gateway.client(endpoint)
                        .complete(messages, prompts.answerSchema())
                        .whenComplete(
                                (reply, error) -> {
                                    llmLatency.update((System.nanoTime() - sentNanos) / 1_000_000);
                                    handBack(session, ticketId, attempt, route, reply, error);
                                });
            } catch (RuntimeException e) {
                handBack(session, ticketId, attempt, route, null, e);
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
            LlmGateway.Route call,
            LlmReply reply,
            Throwable error) {
        try {
            mailbox.execute(
                    () -> onCompletion(session, ticketId, attempt, call, reply, error),
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
            LlmGateway.Route call,
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
                onFailure(session, current, call, unwrap(error));
            } else {
                onReply(session, current, call, reply);
            }
        } finally {
            restoreKey(previousKey);
        }
        drainReady();
    }

    private void onReply(
            String session, PendingTicket current, LlmGateway.Route call, LlmReply reply)
            throws Exception {
        Endpoint endpoint = call.endpoint();
        gateway.onReply(call, now(), reply, callsInFlight + 1);
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
        if (incidentCache != null
                && current.turn() == 1
                && !repairs.containsKey(session)
                && !IncidentCache.namesCustomer(answer, current.ticket())) {
            incidentCache.put(IncidentCache.key(current.ticket()), answer, reply.model(), now());
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
                        cached,
                        DraftReplyFlags.forTicket(answer.draftReply(), ticket),
                        ticket.tenantId());
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
        forget(current.ticket());
        advance(session);
    }

    private void onFailure(
            String session, PendingTicket current, LlmGateway.Route call, LlmException e)
            throws Exception {
        llmFailures.inc();
        Endpoint endpoint = call.endpoint();
        LlmGateway.Verdict verdict = gateway.onFailure(call, now(), e);
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
        if (verdict == LlmGateway.Verdict.REJECTED) {
            if (endpoint == Endpoint.PRIMARY
                    && gateway.hasFallback()
                    && e.kind() == LlmException.Kind.HTTP_STATUS
                    && fallbackOnly.add(session)) {
                markReady(session); // the primary rejected it: the fallback may answer at once
                return;
            }
            deadLetter(session, current, Reason.LLM_REJECTED, e, null);
            return;
        }
        // The backoff grows with every failed call, counted or not (a provider answering 429 for
        // ever is asked less and less often).
        long delay =
                RetryAdvice.backoffMillis(
                        current.attempts(),
                        e.retryAfterMillis(),
                        gatewaySettings.initialBackoff().toMillis(),
                        gatewaySettings.maxBackoff().toMillis(),
                        gatewaySettings.maxAdvisedWait().toMillis(),
                        jitter(current));
        PendingTicket next = current;
        if (verdict == LlmGateway.Verdict.COUNTS) {
            // The provider was healthy and had its chance: the ticket's budget shrinks by the
            // call and the backoff after it (the circuit is closed). Waiting out an outage,
            // probes, stragglers, 429s and rejected keys never get here.
            next = current.chanceUsed(now(), delay);
            boolean used =
                    next.chancesUsed() >= gateway.chancesNeeded(call)
                            || next.chanceMillis() > gatewaySettings.ticketDeadline().toMillis();
            if (used) {
                deadLetter(session, next, Reason.LLM_UNAVAILABLE, e, null);
                return;
            }
        }
        inFlightState.update(next.retryingAt(now() + delay));
        llmRetries.inc();
        scheduleSend(session, delay);
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

    private void deadLetter(
            String session, PendingTicket current, Reason reason, LlmException e, String raw)
            throws Exception {
        String detail =
                e.getMessage()
                        + " (after "
                        + current.attempts()
                        + " call(s), "
                        + current.chancesUsed()
                        + " of them counted against the ticket)";
        LOG.warn(
                "Ticket {} of session {} goes to the DLQ: {}",
                Json.forLog(current.ticket().ticketId()),
                Json.forLog(session),
                Json.forLog(detail));
        emitDeadLetter(DeadLetter.ofTicket(reason, detail, current.ticket(), raw, now()));
        forget(current.ticket());
        advance(session);
    }

    /** The session's current ticket is done: start its next waiting ticket, if any. */
    private void advance(String session) throws Exception {
        pendingTickets--;
        gateway.ticketEnded(session.hashCode());
        // A session with work always has its expiry timer: only the time moves.
        lastActivityState.update(now());
        startNext(session);
    }

    /** Makes the session's oldest waiting ticket its ticket in flight, if it has one. */
    private void startNext(String session) throws Exception {
        inFlightState.clear();
        fallbackOnly.remove(session);
        repairs.remove(session);
        previousCall.remove(session);
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
        String text =
                PromptBuilder.historyText(
                        current.ticket(), Math.max(200, settings.historyChars() / 2));
        updated.add(new Turn(current.turn(), current.ticket().ticketId(), text, answer.toJson()));
        int chars = updated.stream().mapToInt(Turn::chars).sum();
        while (!updated.isEmpty()
                && (updated.size() > settings.historyTurns() || chars > settings.historyChars())) {
            chars -= updated.remove(0).chars();
        }
        historyState.update(updated);
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
        long at = now() + delayMillis;
        retryDue.put(session, at);
        schedule(
                at,
                () -> {
                    // Only the latest retry of the session counts (finish() re-schedules them).
                    if (retryDue.remove(session, at)) {
                        markReady(session);
                        drainReady();
                    }
                });
    }

    @Override
    public void finish() throws Exception {
        // End of a bounded input (or stop with --drain): answer everything that was accepted.
        finishing = true;
        // Timers registered before finish() no longer fire: carry the pending ones over.
        for (Map.Entry<String, Long> retry : new ArrayList<>(retryDue.entrySet())) {
            String session = retry.getKey();
            long at = retry.getValue();
            schedule(
                    at,
                    () -> {
                        if (retryDue.remove(session, at)) {
                            markReady(session);
                            drainReady();
                        }
                    });
        }
        if (wakeUpAt != 0 || !parked.isEmpty()) {
            long at = Math.max(wakeUpAt, now());
            wakeUpAt = 0;
            scheduleWakeUp(Math.max(1, at - now()));
        }
        while (callsInFlight > 0 || !ready.isEmpty() || !retryDue.isEmpty() || !parked.isEmpty()) {
            mailbox.yield();
        }
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            if (lateTimer != null) {
                lateTimer.shutdownNow();
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
