package dev.triage.llm;

/**
 * A circuit breaker for one endpoint. CLOSED: calls go out and their outcomes are counted over a
 * window of the most recent calls; when the failure share reaches the threshold the circuit OPENs:
 * no calls for a while, then one probe (HALF_OPEN). A successful probe closes it; a failed probe
 * opens it again for twice as long, up to a maximum. Outcomes of calls that were sent before the
 * circuit opened (stragglers) are ignored while it is not closed: one late success during a partial
 * outage must not close it. After a restore the circuit starts HALF_OPEN ({@link #startUnknown}):
 * nothing is known about the endpoint, so one probe goes first.
 *
 * <p>Only transient failures count (5xx, timeouts, connection errors). Answers that prove the
 * provider is up, even unwelcome ones such as a 429 or a 400, count as successes. Not thread-safe:
 * the operator uses it on the task thread only. Time is passed in, for tests.
 */
public final class CircuitBreaker {

    /** The breaker's state; the ordinal is the metric value. */
    public enum State {
        CLOSED,
        HALF_OPEN,
        OPEN
    }

    private final int failuresToOpen;
    private final boolean[] window;
    private final long openForMillis;
    private final long maxOpenForMillis;

    private State state = State.CLOSED;
    private int next;
    private int recorded;
    private int failures;
    private long currentOpenFor;
    private long openUntil;
    private long openedAt;
    private boolean probeInFlight;
    private long openings;
    private String reason = "";

    public CircuitBreaker(
            double failureRate, int windowSize, long openForMillis, long maxOpenForMillis) {
        this.window = new boolean[windowSize];
        this.failuresToOpen = Math.max(1, (int) Math.ceil(failureRate * windowSize));
        this.openForMillis = Math.max(1, openForMillis);
        this.maxOpenForMillis = Math.max(this.openForMillis, maxOpenForMillis);
        this.currentOpenFor = this.openForMillis;
    }

    /**
     * Milliseconds until a call may go out; 0 means now. In HALF_OPEN only one probe may be out:
     * the caller must call {@link #onSend()} when it really sends.
     */
    public long waitMillis(long now) {
        if (state == State.OPEN) {
            if (now < openUntil) {
                return openUntil - now;
            }
            state = State.HALF_OPEN;
            probeInFlight = false;
        }
        if (state == State.HALF_OPEN && probeInFlight) {
            return currentOpenFor; // the probe's outcome wakes the caller earlier
        }
        return 0;
    }

    /** Nothing is known about the endpoint (after a restore): the next call is a probe. */
    public void startUnknown() {
        state = State.HALF_OPEN;
        probeInFlight = false;
    }

    /**
     * A call is going out now (after {@link #waitMillis} returned 0). Returns true when it is the
     * probe of a half-open circuit; pass that back with its outcome.
     */
    public boolean onSend() {
        if (state == State.HALF_OPEN) {
            probeInFlight = true;
            return true;
        }
        return false;
    }

    /**
     * The endpoint answered: it is up. Returns true when this closed the circuit, which only the
     * probe can do; a straggler sent before the circuit opened is ignored.
     */
    public boolean onSuccess(boolean probe) {
        if (state == State.CLOSED) {
            record(false);
            return false;
        }
        if (probe && state == State.HALF_OPEN) {
            close();
            return true;
        }
        return false;
    }

    /**
     * A transient failure (5xx, timeout, connection error). Returns true when this opened the
     * circuit.
     */
    public boolean onFailure(long now, String why, boolean probe) {
        switch (state) {
            case HALF_OPEN -> {
                if (!probe) {
                    return false; // a straggler: only the probe decides
                }
                currentOpenFor = Math.min(maxOpenForMillis, currentOpenFor * 2);
                open(now, "probe failed: " + why);
                return false; // still open, not newly opened
            }
            case OPEN -> {
                return false; // a call that was in flight when the circuit opened
            }
            default -> {
                record(true);
                if (failures >= failuresToOpen) {
                    openings++;
                    openedAt = now;
                    open(
                            now,
                            failures + " of the last " + recorded + " calls failed, last: " + why);
                    return true;
                }
                return false;
            }
        }
    }

    /** Opens the circuit whatever the window says: the endpoint rejects every request. */
    public boolean forceOpen(long now, String why) {
        if (state != State.CLOSED) {
            if (state == State.HALF_OPEN) {
                currentOpenFor = Math.min(maxOpenForMillis, currentOpenFor * 2);
                open(now, why);
            }
            return false;
        }
        openings++;
        openedAt = now;
        currentOpenFor = maxOpenForMillis;
        open(now, why);
        return true;
    }

    public State state() {
        return state;
    }

    /** How often the circuit has opened. */
    public long openings() {
        return openings;
    }

    /** Why the circuit last opened. */
    public String reason() {
        return reason;
    }

    /** When the circuit last opened (for the log line that says it closed again). */
    public long openedAt() {
        return openedAt;
    }

    private void open(long now, String why) {
        state = State.OPEN;
        openUntil = now + currentOpenFor;
        probeInFlight = false;
        reason = why;
    }

    private void close() {
        state = State.CLOSED;
        currentOpenFor = openForMillis;
        probeInFlight = false;
        recorded = 0;
        failures = 0;
        next = 0;
        java.util.Arrays.fill(window, false);
    }

    private void record(boolean failed) {
        if (recorded == window.length) {
            if (window[next]) {
                failures--;
            }
        } else {
            recorded++;
        }
        window[next] = failed;
        if (failed) {
            failures++;
        }
        next = (next + 1) % window.length;
    }
}
