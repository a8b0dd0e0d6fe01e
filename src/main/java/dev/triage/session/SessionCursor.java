package dev.triage.session;

/**
 * Per-session counters: the turn number the next arriving ticket gets, and the head and tail
 * sequence numbers of the session's waiting queue (a FIFO over a MapState).
 */
public record SessionCursor(int nextTurn, long head, long tail) {

    static final SessionCursor NEW = new SessionCursor(1, 0, 0);

    boolean hasWaiting() {
        return head < tail;
    }
}
