package dev.triage.llm;

/**
 * The recent outcomes of one endpoint's calls and who made them: how often the endpoint fails calls
 * of other sessions, and so how many failures in a row one ticket needs before they are no longer
 * chance. A provider that drops 30 % of everyone's connections fails four calls of one ticket in a
 * row once in 123 tickets that were dropped once; those tickets are unlucky, not unanswerable, and
 * must not be dead-lettered. A ticket whose calls fail while the others' are answered is.
 *
 * <p>Not thread-safe: the gateway uses it on the task thread only. Kept in memory; after a restore
 * it starts empty, which makes the estimate cautious (see {@link #failureRateOfOthers}).
 */
final class OutcomeHistory {

    /** Outcomes remembered: enough for a stable estimate, few enough to follow a change. */
    static final int SIZE = 200;

    /** The most recent outcomes, whose plain failure share catches the start of a fault. */
    static final int RECENT = 20;

    /**
     * A ticket is dead-lettered only when its run of failures would happen by chance less often
     * than this at the failure rate the endpoint shows others.
     */
    static final double CHANCE = 1e-6;

    private final int[] callers = new int[SIZE];
    private final boolean[] failed = new boolean[SIZE];
    private int next;
    private int size;

    /** A call of {@code caller} (a session's hash) ended: answered, or a transient failure. */
    void record(int caller, boolean failure) {
        callers[next] = caller;
        failed[next] = failure;
        next = (next + 1) % SIZE;
        size = Math.min(SIZE, size + 1);
    }

    /**
     * The share of other callers' calls that failed: the larger of a smoothed estimate over the
     * whole history ({@code (failures + 1) / (calls + 2)}, so that few calls say little and a quiet
     * endpoint is judged cautiously) and the plain share among the most recent {@link #RECENT} of
     * them (so that the first minutes of a fault are not judged by the calm before).
     */
    double failureRateOfOthers(int caller) {
        int calls = 0;
        int failures = 0;
        int recentCalls = 0;
        int recentFailures = 0;
        for (int i = 1; i <= size; i++) {
            int at = Math.floorMod(next - i, SIZE);
            if (callers[at] == caller) {
                continue;
            }
            calls++;
            if (failed[at]) {
                failures++;
            }
            if (recentCalls < RECENT) {
                recentCalls++;
                if (failed[at]) {
                    recentFailures++;
                }
            }
        }
        double smoothed = (failures + 1.0) / (calls + 2.0);
        double recent = recentCalls == 0 ? 0 : recentFailures / (double) recentCalls;
        return Math.max(smoothed, recent);
    }

    /**
     * Counted failures of {@code caller}'s ticket that make it a ticket the endpoint cannot answer:
     * at least {@code maxAttempts}, and more while others' calls fail too, until such a run would
     * be a one-in-a-million chance ({@link #CHANCE}).
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
