package dev.triage.llm;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How often one endpoint fails calls of tickets it does answer in the end, and so how many failures
 * in a row one ticket needs before they are no longer chance. A provider that drops 30 % of
 * everyone's connections fails four calls of one ticket in a row once in 123 tickets that were
 * dropped once; those tickets are unlucky, not unanswerable, and must not be dead-lettered. A
 * ticket whose calls fail while the others' are answered is.
 *
 * <p>The evidence is the answered tickets only: each answer records how many transient failures its
 * ticket (its caller, a session's hash) had on this endpoint before it. A ticket the endpoint never
 * answers (a poison ticket) adds nothing, so poison tickets in other sessions cannot make the
 * provider look flaky and keep each other alive; a flaky provider shows up as answered tickets that
 * failed first.
 *
 * <p>Not thread-safe: the gateway uses it on the task thread only. Kept in memory; after a restore
 * it starts empty, which makes the estimate cautious (see {@link #failureRateOfOthers}).
 */
final class OutcomeHistory {

    /** Answered tickets remembered: enough for a stable estimate, few enough to follow a change. */
    static final int SIZE = 200;

    /** The most recent answered tickets, whose plain failure share catches the start of a fault. */
    static final int RECENT = 20;

    /**
     * A ticket is dead-lettered only when its run of failures would happen by chance less often
     * than this at the failure rate the endpoint shows others.
     */
    static final double CHANCE = 1e-6;

    /** Callers with failures and no answer yet; more are forgotten, oldest first. */
    static final int MAX_PENDING = 100_000;

    private final int[] callers = new int[SIZE];
    private final int[] failuresBefore = new int[SIZE];
    private int next;
    private int size;

    private final Map<Integer, Integer> pending =
            new LinkedHashMap<>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Integer, Integer> eldest) {
                    return size() > MAX_PENDING;
                }
            };

    /**
     * A call of {@code caller} ended: a transient failure, or an answer (which closes the ticket's
     * record with the failures it had before).
     */
    void record(int caller, boolean failure) {
        if (failure) {
            pending.merge(caller, 1, Integer::sum);
            return;
        }
        Integer failures = pending.remove(caller);
        callers[next] = caller;
        failuresBefore[next] = failures == null ? 0 : failures;
        next = (next + 1) % SIZE;
        size = Math.min(SIZE, size + 1);
    }

    /** The caller's ticket ended without an answer here (a dead letter, the fallback answered). */
    void forget(int caller) {
        pending.remove(caller);
    }

    /**
     * The share of failed calls among the calls of other callers' answered tickets: the larger of a
     * smoothed estimate over all of them ({@code (failures + 1) / (calls + 2)}, so that few tickets
     * say little and a quiet endpoint is judged cautiously) and the plain share among the most
     * recent {@link #RECENT} (so that a fault is not judged by the calm before it). Below 1: each
     * answered ticket had one call that succeeded.
     */
    double failureRateOfOthers(int caller) {
        long calls = 0;
        long failures = 0;
        long recentCalls = 0;
        long recentFailures = 0;
        int recentTickets = 0;
        for (int i = 1; i <= size; i++) {
            int at = Math.floorMod(next - i, SIZE);
            if (callers[at] == caller) {
                continue;
            }
            int f = failuresBefore[at];
            calls += f + 1;
            failures += f;
            if (recentTickets < RECENT) {
                recentTickets++;
                recentCalls += f + 1;
                recentFailures += f;
            }
        }
        double smoothed = (failures + 1.0) / (calls + 2.0);
        double recent = recentCalls == 0 ? 0 : recentFailures / (double) recentCalls;
        return Math.max(smoothed, recent);
    }

    /**
     * Counted failures of {@code caller}'s ticket that make it a ticket the endpoint cannot answer:
     * at least {@code maxAttempts}, and more while others' tickets fail before their answers too,
     * until such a run would be a one-in-a-million chance ({@link #CHANCE}).
     */
    int chancesNeeded(int caller, int maxAttempts) {
        return forRate(failureRateOfOthers(caller), maxAttempts);
    }

    static int forRate(double failureRate, int maxAttempts) {
        if (failureRate <= 0) {
            return maxAttempts;
        }
        if (failureRate >= 1) {
            return Integer.MAX_VALUE;
        }
        double needed = Math.ceil(Math.log(CHANCE) / Math.log(failureRate));
        return (int) Math.max(maxAttempts, Math.min(Integer.MAX_VALUE, needed));
    }
}
