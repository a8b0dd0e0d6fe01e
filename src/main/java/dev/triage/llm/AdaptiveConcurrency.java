package dev.triage.llm;

/**
 * An AIMD limit on the calls in flight of one subtask: a 429 or a timeout (the provider is
 * saturated) cuts it by 10%; a success while at least half the limit is in use raises it by one; it
 * stays within {@code [min, max]}. Disabled, it is simply {@code max}. Task thread only.
 */
public final class AdaptiveConcurrency {

    private static final double BACKOFF = 0.9;

    private final boolean enabled;
    private final int min;
    private final int max;
    private double limit;

    public AdaptiveConcurrency(boolean enabled, int min, int max) {
        this.enabled = enabled;
        this.max = max;
        this.min = Math.min(min, max);
        this.limit = max;
    }

    public int limit() {
        return (int) limit;
    }

    /** A call succeeded with {@code inFlight} calls out (counting this one). */
    public void onSuccess(int inFlight) {
        if (enabled && inFlight * 2 >= limit) {
            limit = Math.min(max, limit + 1);
        }
    }

    /** The provider pushed back: a 429 or a timeout. */
    public void onOverload() {
        if (enabled) {
            limit = Math.max(min, Math.floor(limit * BACKOFF));
        }
    }
}
