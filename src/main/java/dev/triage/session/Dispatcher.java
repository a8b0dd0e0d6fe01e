package dev.triage.session;

import dev.triage.session.OutcomePolicy.RepairNote;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which session sends next, in memory: the FIFO of sessions whose ticket in flight should be sent
 * as soon as a call is free (each at most once), the sessions parked because only a fallback whose
 * circuit is open may answer them, the retries that are due later and the one pending wake-up; and
 * the count of tickets accepted and not yet ended, which bounds the backlog. All of it is rebuilt
 * from keyed state on restore. Task thread only.
 */
final class Dispatcher {

    private final ArrayDeque<String> ready = new ArrayDeque<>();
    private final Set<String> readySet = new HashSet<>();
    private final List<String> parked = new ArrayList<>();
    private final Map<String, Long> retryDue = new HashMap<>();

    /** Sessions whose current ticket the primary rejected: only the fallback may answer it. */
    private final Set<String> fallbackOnly = new HashSet<>();

    /** Sessions whose current ticket got an unusable answer and is being asked again. */
    private final Map<String, RepairNote> repairs = new HashMap<>();

    /**
     * Tickets accepted and not yet answered or dead-lettered on this subtask: in flight (on the
     * wire or waiting for a retry) or waiting behind their session.
     */
    private long pending;

    /** When the pending wake-up is due (processing time), 0 when none is. */
    private long wakeUpAt;

    // ------------------------------------------------------------ the ready FIFO

    /** The session's ticket may be sent: at the back of the queue, unless it is in it already. */
    void markReady(String session) {
        if (readySet.add(session)) {
            ready.add(session);
        }
    }

    /** The next session to send, out of the queue; null when none is ready. */
    String pollReady() {
        String session = ready.poll();
        if (session != null) {
            readySet.remove(session);
        }
        return session;
    }

    /** The session could not be sent yet: back to the front, where it was. */
    void keepPlace(String session) {
        if (readySet.add(session)) {
            ready.addFirst(session);
        }
    }

    boolean hasReady() {
        return !ready.isEmpty();
    }

    int readyCount() {
        return ready.size();
    }

    // ------------------------------------------------------------ parked, retries, wake-up

    /** Set the session aside until the next wake-up, so the sessions behind it may go. */
    void park(String session) {
        parked.add(session);
    }

    boolean hasParked() {
        return !parked.isEmpty();
    }

    /** Parked sessions go back to the front of the ready queue, in their order. */
    void unpark() {
        for (int i = parked.size() - 1; i >= 0; i--) {
            keepPlace(parked.get(i));
        }
        parked.clear();
    }

    /** The session's ticket is sent again at {@code at}; only the latest retry counts. */
    void retryAt(String session, long at) {
        retryDue.put(session, at);
    }

    /** The retry for {@code at} fell due: true (and it is gone) if it is still the latest. */
    boolean retryFired(String session, long at) {
        return retryDue.remove(session, at);
    }

    /** The retries that are due later (a copy, in the map's order). */
    List<Map.Entry<String, Long>> retries() {
        List<Map.Entry<String, Long>> copy = new ArrayList<>(retryDue.size());
        retryDue.forEach((session, at) -> copy.add(Map.entry(session, at)));
        return copy;
    }

    /** Whether a wake-up at {@code at} is needed: false when an earlier one is already due. */
    boolean wakeUpNeeded(long at) {
        if (wakeUpAt != 0 && wakeUpAt <= at) {
            return false;
        }
        wakeUpAt = at;
        return true;
    }

    /** The wake-up for {@code at} fired. */
    void wokeUp(long at) {
        if (wakeUpAt == at) {
            wakeUpAt = 0;
        }
    }

    /** The pending wake-up's time, forgotten (finish() schedules it again); 0 when none. */
    long takeWakeUp() {
        long at = wakeUpAt;
        wakeUpAt = 0;
        return at;
    }

    /** Nothing is ready, parked or waiting for a retry. */
    boolean idle() {
        return ready.isEmpty() && retryDue.isEmpty() && parked.isEmpty();
    }

    // ------------------------------------------------------------ what the next call needs

    /** From now on only the fallback may answer the session's current ticket. */
    void fallbackOnly(String session) {
        fallbackOnly.add(session);
    }

    boolean isFallbackOnly(String session) {
        return fallbackOnly.contains(session);
    }

    RepairNote repair(String session) {
        return repairs.get(session);
    }

    void repair(String session, RepairNote note) {
        repairs.put(session, note);
    }

    /** The session's ticket ended: what its next call had to do differently is forgotten. */
    void ticketEnded(String session) {
        fallbackOnly.remove(session);
        repairs.remove(session);
    }

    // ------------------------------------------------------------ backlog accounting

    void accepted() {
        pending++;
    }

    void ended() {
        pending--;
    }

    /** After a restore: the tickets in flight and waiting in keyed state. */
    void restored(long tickets) {
        pending = tickets;
    }

    long pending() {
        return pending;
    }

    /** More than {@code maxBacklog} accepted tickets are not on the wire: stop taking input. */
    boolean overBacklog(int onTheWire, long maxBacklog) {
        return pending - onTheWire > maxBacklog;
    }
}
