package dev.triage.session;

import dev.triage.records.Ticket;

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
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The operator's state behind a narrow API. Keyed by session (the backend's current key): the turn
 * counter, the ticket in flight, the tickets waiting behind it (a {@link WaitingQueue} of indexes
 * into a MapState, so they stay in RocksDB), the history of answered turns, the window of recent
 * ticket ids and the last activity. Operator state: the layout the snapshot was written with.
 *
 * <p>Every descriptor's name, type and serializer is part of the savepoint format: changing one
 * breaks restoring older savepoints (src/test/resources/savepoints, SessionStateTest).
 *
 * <p>Over 300 lines, on purpose: every descriptor and the layout-1 migration stay in one class, so
 * the savepoint format is declared in one place and nothing else can register state.
 */
final class SessionState {

    /**
     * The layout of this operator's state: 1 (0.1, conversation state with Flink TTL), 2 (idle
     * expiry by keyed timer, with a {@code last-activity} entry per session).
     */
    static final int LAYOUT = 2;

    private final ValueState<Integer> nextTurn;
    private final ValueState<WaitingQueue> queue;
    private final MapState<Long, PendingTicket> waiting;
    private final ValueState<PendingTicket> inFlight;
    private final ValueState<List<Turn>> history;
    private final ValueState<List<String>> recentIds;
    private final ValueState<Long> lastActivity;
    private final ValueStateDescriptor<PendingTicket> inFlightDescriptor;
    private final ValueStateDescriptor<WaitingQueue> queueDescriptor;
    private final ListState<Integer> layout;
    private final boolean restored;
    private final int restoredLayout;

    /** Layout 1's conversation state (with TTL), read once by {@link #migrateLayout1}. */
    private ValueStateDescriptor<Integer> legacyNextTurn;

    private ValueStateDescriptor<List<Turn>> legacyHistory;
    private ValueStateDescriptor<List<String>> legacyRecentIds;

    SessionState(StateInitializationContext context, Duration idleTimeout) throws Exception {
        // No Flink state TTL: a TTL measures time since the last write of each entry, so a
        // conversation with a ticket stuck in an outage (or a job that was down overnight) would
        // lose its turn counter and history under that ticket. A keyed timer per session deletes
        // the conversation after the idle timeout instead, and only when nothing is in flight or
        // waiting. Layout 1 (0.1) kept these three under other names with TTL; Flink cannot drop
        // TTL from existing state on every backend, so they moved to new names and are migrated
        // once (migrateLayout1).
        var nextTurnDescriptor = new ValueStateDescriptor<>("session-next-turn", Types.INT);
        var historyDescriptor =
                new ValueStateDescriptor<>("session-history", new ListTypeInfo<>(Turn.class));
        var recentIdsDescriptor =
                new ValueStateDescriptor<>("session-recent-ids", Types.LIST(Types.STRING));
        var lastActivityDescriptor = new ValueStateDescriptor<>("last-activity", Types.LONG);
        queueDescriptor =
                new ValueStateDescriptor<>("waiting-queue", TypeInformation.of(WaitingQueue.class));
        var waitingDescriptor =
                new MapStateDescriptor<>(
                        "waiting-tickets", Types.LONG, TypeInformation.of(PendingTicket.class));
        inFlightDescriptor =
                new ValueStateDescriptor<>(
                        "in-flight-ticket", TypeInformation.of(PendingTicket.class));

        var store = context.getKeyedStateStore();
        nextTurn = store.getState(nextTurnDescriptor);
        history = store.getState(historyDescriptor);
        recentIds = store.getState(recentIdsDescriptor);
        lastActivity = store.getState(lastActivityDescriptor);
        queue = store.getState(queueDescriptor);
        waiting = store.getMapState(waitingDescriptor);
        inFlight = store.getState(inFlightDescriptor);

        layout =
                context.getOperatorStateStore()
                        .getUnionListState(new ListStateDescriptor<>("state-layout", Types.INT));
        restored = context.isRestored();
        int found = restored ? 1 : LAYOUT;
        for (Integer v : layout.get()) {
            found = Math.max(found, v);
        }
        restoredLayout = found;
        if (restoredLayout < 2) {
            StateTtlConfig ttl =
                    StateTtlConfig.newBuilder(idleTimeout)
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

    boolean restored() {
        return restored;
    }

    /** The snapshot being restored is of layout 1: run {@link #migrateLayout1} once. */
    boolean needsMigration() {
        return restoredLayout < 2;
    }

    void snapshot() throws Exception {
        layout.update(List.of(LAYOUT));
    }

    // ------------------------------------------------------------ the current session

    /** The session's ticket in flight (sent, or waiting for a slot or a retry); null if none. */
    PendingTicket inFlight() throws Exception {
        return inFlight.value();
    }

    void inFlight(PendingTicket ticket) throws Exception {
        inFlight.update(ticket);
    }

    /** How many tickets wait behind the one in flight. */
    long waiting() throws Exception {
        WaitingQueue q = queue.value();
        return q == null ? 0 : q.size();
    }

    /** Whether the session has work: a ticket in flight or waiting. */
    boolean busy() throws Exception {
        return inFlight.value() != null || queue.value() != null;
    }

    /** The session's next turn number, taken. */
    int claimTurn() throws Exception {
        Integer turn = nextTurn.value();
        int thisTurn = turn == null ? 1 : turn;
        nextTurn.update(thisTurn + 1);
        return thisTurn;
    }

    /** Puts the ticket behind the session's earlier ones. */
    void enqueue(PendingTicket ticket) throws Exception {
        WaitingQueue q = queue.value();
        if (q == null) {
            q = WaitingQueue.EMPTY;
        }
        waiting.put(q.tail(), ticket);
        queue.update(q.pushed());
    }

    /**
     * The ticket in flight is done: the oldest waiting ticket, if any, becomes the one in flight.
     * Returns it, or null when the session has no more work.
     */
    PendingTicket advance() throws Exception {
        inFlight.clear();
        WaitingQueue q = queue.value();
        if (q == null || q.isEmpty()) {
            queue.clear();
            return null;
        }
        PendingTicket next = waiting.get(q.head());
        waiting.remove(q.head());
        WaitingQueue rest = q.popped();
        if (rest.isEmpty()) {
            queue.clear();
        } else {
            queue.update(rest);
        }
        inFlight.update(next);
        return next;
    }

    /** The session's earlier turns, oldest first. */
    List<Turn> history() throws Exception {
        List<Turn> turns = history.value();
        return turns == null ? List.of() : turns;
    }

    /** Adds a turn, dropping the oldest beyond {@code maxTurns} turns or {@code maxChars}. */
    void appendTurn(Turn turn, int maxTurns, int maxChars) throws Exception {
        List<Turn> updated = new ArrayList<>(history());
        updated.add(turn);
        int chars = updated.stream().mapToInt(Turn::chars).sum();
        while (!updated.isEmpty() && (updated.size() > maxTurns || chars > maxChars)) {
            chars -= updated.remove(0).chars();
        }
        history.update(updated);
    }

    /** The fingerprint the session remembered for the ticket's id; null when the id is new. */
    String recall(Ticket ticket) throws Exception {
        return RecentIds.recall(recentIds.value(), ticket);
    }

    /** Adds the ticket to the session's window of the last {@code window} ids. */
    void remember(Ticket ticket, int window) throws Exception {
        recentIds.update(RecentIds.remembered(recentIds.value(), ticket, window));
    }

    /** Forgets a ticket id: a dead-lettered ticket may be sent again, and is then triaged. */
    void forget(Ticket ticket) throws Exception {
        List<String> updated = RecentIds.forgotten(recentIds.value(), ticket);
        if (updated != null) {
            recentIds.update(updated);
        }
    }

    /** When the session last did something; null for a new (or expired) session. */
    Long lastActivity() throws Exception {
        return lastActivity.value();
    }

    void lastActivity(long now) throws Exception {
        lastActivity.update(now);
    }

    /**
     * The session did something at {@code now}: it lives for another idle timeout. Returns true
     * when it is new, so its one expiry timer must be armed.
     */
    boolean touch(long now) throws Exception {
        Long last = lastActivity.value();
        lastActivity.update(now);
        return last == null;
    }

    /**
     * Deletes the conversation if it has been idle for {@code idleMillis} at {@code now} and has no
     * work. Returns whether it did.
     */
    boolean expireIfIdle(long now, long idleMillis) throws Exception {
        Long last = lastActivity.value();
        if (last == null || now < last + idleMillis || busy()) {
            return false;
        }
        expire();
        return true;
    }

    /**
     * The session's expiry timer fired at {@code now}: deletes the conversation if it is idle and
     * has no work (returns 0), else returns when the timer should fire again; -1 when the session
     * is gone already. Never expires under work in flight or waiting, whatever the clock says.
     */
    long expiryDue(long now, long idleMillis) throws Exception {
        Long last = lastActivity.value();
        if (last == null) {
            return -1;
        }
        if (busy() || now < last + idleMillis) {
            return Math.max(now, last) + idleMillis;
        }
        expire();
        return 0;
    }

    /** Deletes the session's conversation (it has no work). */
    private void expire() {
        nextTurn.clear();
        history.clear();
        recentIds.clear();
        lastActivity.clear();
    }

    // ------------------------------------------------------------ all sessions of this subtask

    /** Visits every session's ticket in flight (keys of this subtask's key groups only). */
    void visitInFlight(KeyedStateBackend<String> backend, BiConsumer<String, PendingTicket> visitor)
            throws Exception {
        forEachValue(backend, inFlightDescriptor, visitor);
    }

    /** The tickets waiting behind their session, over all sessions of this subtask. */
    long countWaiting(KeyedStateBackend<String> backend) throws Exception {
        long[] count = {0};
        forEachValue(backend, queueDescriptor, (key, queue) -> count[0] += queue.size());
        return count[0];
    }

    /** Calls {@code visitor} with each key of this subtask that holds a value of {@code state}. */
    private static <V> void forEachValue(
            KeyedStateBackend<String> backend,
            ValueStateDescriptor<V> state,
            BiConsumer<String, V> visitor)
            throws Exception {
        backend.applyToAllKeys(
                VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE,
                state,
                (String key, ValueState<V> value) -> {
                    V v = value.value();
                    if (v != null) {
                        visitor.accept(key, v);
                    }
                });
    }

    /**
     * A snapshot of layout 1 (0.1) keeps the conversation under TTL'd state of other names: moves
     * every session's conversation to the current state, then calls {@code moved} with the session
     * as the current key (to arm its expiry). Later snapshots hold none of the old state. Returns
     * the number of sessions moved.
     */
    int migrateLayout1(KeyedStateBackend<String> backend, ThrowingConsumer moved) throws Exception {
        Set<String> sessions = new LinkedHashSet<>();
        var ns = VoidNamespace.INSTANCE;
        var nss = VoidNamespaceSerializer.INSTANCE;
        backend.applyToAllKeys(
                ns, nss, legacyNextTurn, (String k, ValueState<Integer> s) -> sessions.add(k));
        backend.applyToAllKeys(
                ns, nss, legacyHistory, (String k, ValueState<List<Turn>> s) -> sessions.add(k));
        backend.applyToAllKeys(
                ns,
                nss,
                legacyRecentIds,
                (String k, ValueState<List<String>> s) -> sessions.add(k));
        ValueState<Integer> oldTurn = backend.getPartitionedState(ns, nss, legacyNextTurn);
        ValueState<List<Turn>> oldHistory = backend.getPartitionedState(ns, nss, legacyHistory);
        ValueState<List<String>> oldIds = backend.getPartitionedState(ns, nss, legacyRecentIds);
        for (String session : sessions) {
            backend.setCurrentKey(session);
            Integer turn = oldTurn.value();
            List<Turn> turns = oldHistory.value();
            List<String> ids = oldIds.value();
            if (turn != null) {
                nextTurn.update(turn);
            }
            if (turns != null) {
                history.update(turns);
            }
            if (ids != null) {
                recentIds.update(ids);
            }
            oldTurn.clear();
            oldHistory.clear();
            oldIds.clear();
            moved.accept(session);
        }
        return sessions.size();
    }

    /** What {@link #migrateLayout1} calls per session. */
    interface ThrowingConsumer {
        void accept(String session) throws Exception;
    }
}
