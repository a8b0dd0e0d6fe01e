package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.records.Ticket;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * SessionState's API on a real keyed backend, through a probe operator that only holds it (the
 * session operator's own tests cover it in use, SessionStateTest the savepoints).
 */
class SessionStateApiTest {

    private static final long IDLE = Duration.ofHours(1).toMillis();

    private KeyedOneInputStreamOperatorTestHarness<String, String, Void> harness;
    private Probe probe;

    /** Only holds the state. */
    static final class Probe extends AbstractStreamOperator<Void>
            implements OneInputStreamOperator<String, Void> {
        SessionState state;

        @Override
        public void initializeState(StateInitializationContext context) throws Exception {
            super.initializeState(context);
            state = new SessionState(context, Duration.ofMillis(IDLE));
        }

        @Override
        public void snapshotState(StateSnapshotContext context) throws Exception {
            super.snapshotState(context);
            state.snapshot();
        }

        @Override
        public void processElement(StreamRecord<String> element) {}
    }

    private SessionState open(OperatorSubtaskState restoreFrom) throws Exception {
        probe = new Probe();
        harness = new KeyedOneInputStreamOperatorTestHarness<>(probe, s -> s, Types.STRING);
        if (restoreFrom != null) {
            harness.initializeState(restoreFrom);
        }
        harness.open();
        return probe.state;
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private void at(String session) {
        probe.setCurrentKey(session);
    }

    private static PendingTicket pending(String id, int turn) {
        Ticket t = SessionOperatorTestBase.ticket("S-1", id, "body of " + id);
        return new PendingTicket(t, turn, 0L);
    }

    @Test
    void turnsAreClaimedInOrderPerSession() throws Exception {
        SessionState state = open(null);
        at("S-1");
        assertThat(state.claimTurn()).isEqualTo(1);
        assertThat(state.claimTurn()).isEqualTo(2);
        at("S-2");
        assertThat(state.claimTurn()).isEqualTo(1);
    }

    @Test
    void waitingTicketsAdvanceInArrivalOrder() throws Exception {
        SessionState state = open(null);
        at("S-1");
        assertThat(state.busy()).isFalse();
        state.inFlight(pending("T-1", 1));
        state.enqueue(pending("T-2", 2));
        state.enqueue(pending("T-3", 3));
        assertThat(state.waiting()).isEqualTo(2);
        assertThat(state.advance().ticket().ticketId()).isEqualTo("T-2");
        assertThat(state.inFlight().ticket().ticketId()).isEqualTo("T-2");
        assertThat(state.advance().ticket().ticketId()).isEqualTo("T-3");
        assertThat(state.waiting()).isZero();
        assertThat(state.advance()).isNull();
        assertThat(state.busy()).isFalse();
        assertThat(harness.numKeyedStateEntries()).as("nothing left behind").isZero();
    }

    @Test
    void theHistoryKeepsTheNewestTurnsWithinItsBounds() throws Exception {
        SessionState state = open(null);
        at("S-1");
        for (int i = 1; i <= 5; i++) {
            state.appendTurn(new Turn(i, "T-" + i, "x".repeat(10), "{}"), 3, 10_000);
        }
        assertThat(state.history()).extracting(Turn::turn).containsExactly(3, 4, 5);
        state.appendTurn(new Turn(6, "T-6", "y".repeat(100), "{}"), 3, 110);
        assertThat(state.history()).extracting(Turn::turn).containsExactly(6);
    }

    @Test
    void rememberedIdsAreRecalledUntilForgotten() throws Exception {
        SessionState state = open(null);
        at("S-1");
        Ticket t = pending("T-1", 1).ticket();
        assertThat(state.recall(t)).isNull();
        state.remember(t, 10);
        assertThat(state.recall(t)).isEqualTo(RecentIds.fingerprint(t));
        state.forget(t);
        assertThat(state.recall(t)).isNull();
    }

    @Test
    void anIdleSessionWithoutWorkExpiresAndOneWithWorkNever() throws Exception {
        SessionState state = open(null);
        at("S-1");
        assertThat(state.touch(0)).as("new: arm the timer").isTrue();
        assertThat(state.touch(10)).isFalse();
        state.claimTurn();
        assertThat(state.expireIfIdle(IDLE, IDLE)).as("not idle long enough").isFalse();
        assertThat(state.expiryDue(IDLE, IDLE)).as("fire again").isEqualTo(2 * IDLE);

        state.inFlight(pending("T-1", 1));
        assertThat(state.expireIfIdle(10 * IDLE, IDLE)).as("work in flight").isFalse();
        assertThat(state.expiryDue(10 * IDLE, IDLE)).isEqualTo(11 * IDLE);

        state.advance();
        assertThat(state.expiryDue(10 * IDLE, IDLE)).as("expired").isZero();
        assertThat(state.lastActivity()).isNull();
        assertThat(state.claimTurn()).as("a fresh conversation").isEqualTo(1);
        assertThat(state.expiryDue(10 * IDLE, IDLE)).as("gone: no timer").isEqualTo(-1);
    }

    @Test
    void aRestoreVisitsEveryTicketInFlightAndCountsTheWaitingOnes() throws Exception {
        SessionState state = open(null);
        at("S-1");
        state.inFlight(pending("T-1", 1));
        state.enqueue(pending("T-2", 2));
        at("S-2");
        state.inFlight(pending("T-9", 1).retryingAt(500));
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();

        SessionState restored = open(snapshot);
        assertThat(restored.restored()).isTrue();
        assertThat(restored.needsMigration()).isFalse();
        Map<String, String> inFlight = new HashMap<>();
        restored.visitInFlight(
                probe.getKeyedStateBackend(), (k, p) -> inFlight.put(k, p.ticket().ticketId()));
        assertThat(inFlight).isEqualTo(Map.of("S-1", "T-1", "S-2", "T-9"));
        assertThat(restored.countWaiting(probe.getKeyedStateBackend())).isEqualTo(1);
        at("S-1");
        assertThat(restored.advance().ticket().ticketId()).isEqualTo("T-2");
    }
}
