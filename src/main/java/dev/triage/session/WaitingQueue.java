package dev.triage.session;

/**
 * Head and tail sequence numbers of a session's waiting tickets, a FIFO over a MapState: entries
 * {@code head .. tail-1} wait. Cleared when the queue is empty.
 */
public record WaitingQueue(long head, long tail) {

    static final WaitingQueue EMPTY = new WaitingQueue(0, 0);

    boolean isEmpty() {
        return head >= tail;
    }

    long size() {
        return Math.max(0, tail - head);
    }

    WaitingQueue pushed() {
        return new WaitingQueue(head, tail + 1);
    }

    WaitingQueue popped() {
        return new WaitingQueue(head + 1, tail);
    }
}
