package dev.triage.tools.simulator;

/**
 * A token bucket for a per-minute limit: refills limit/60 per second and holds at most ten seconds'
 * worth, so bursts are cut the way providers enforce per-minute limits over short windows.
 */
final class RateBucket {
    private final double perMilli;
    private final double capacity;
    private double tokens;
    private long last;

    RateBucket(int perMinute) {
        this.perMilli = perMinute / 60_000.0;
        this.capacity = Math.max(1.0, perMinute / 6.0);
        this.tokens = capacity;
        this.last = System.currentTimeMillis();
    }

    /** Takes {@code n}, or returns the milliseconds until they are available. */
    synchronized long tryTake(double n) {
        refill();
        double need = Math.min(n, capacity);
        if (tokens >= need) {
            tokens -= need;
            return 0;
        }
        return Math.max(1, (long) Math.ceil((need - tokens) / perMilli));
    }

    synchronized void giveBack(double n) {
        tokens = Math.min(capacity, tokens + n);
    }

    synchronized long remaining() {
        refill();
        return (long) Math.floor(tokens);
    }

    /** Milliseconds until the bucket is full again (OpenAI's x-ratelimit-reset-*). */
    synchronized long resetMillis() {
        refill();
        return (long) Math.ceil((capacity - tokens) / perMilli);
    }

    private void refill() {
        long now = System.currentTimeMillis();
        tokens = Math.min(capacity, tokens + (now - last) * perMilli);
        last = now;
    }
}
