package dev.triage.llm;

/**
 * This subtask's share of the provider's request and token limits, as two token buckets, slowed
 * down multiplicatively when the provider answers 429 and sped back up additively on success
 * (AIMD), so that the job stays under limits it does not know exactly. Not thread-safe: used on the
 * task thread only. Time is passed in, for tests.
 */
public final class ProviderRateLimiter {

    private static final double MIN_FACTOR = 0.05;
    private static final double DECREASE = 0.5;
    private static final double INCREASE = 0.02;

    private final double requestsPerMilli;
    private final double tokensPerMilli;
    private final double requestCapacity;
    private final double tokenCapacity;

    private double requests;
    private double tokens;
    private double factor = 1.0;
    private long last;
    private long pausedUntil;

    /**
     * @param requestsPerMinute this subtask's request budget; 0 for none
     * @param tokensPerMinute this subtask's token budget; 0 for none
     * @param burstSeconds how much unused budget may accumulate
     */
    public ProviderRateLimiter(
            double requestsPerMinute, double tokensPerMinute, double burstSeconds, long now) {
        this.requestsPerMilli = requestsPerMinute / 60_000.0;
        this.tokensPerMilli = tokensPerMinute / 60_000.0;
        this.requestCapacity = Math.max(1.0, requestsPerMilli * burstSeconds * 1000);
        this.tokenCapacity = tokensPerMilli * burstSeconds * 1000;
        this.requests = requestCapacity;
        this.tokens = tokenCapacity;
        this.last = now;
    }

    /**
     * Milliseconds to wait before a request of {@code estimatedTokens} may be sent; 0 means send
     * now (and the budget is taken).
     */
    public long tryAcquire(long now, int estimatedTokens) {
        refill(now);
        if (now < pausedUntil) {
            return pausedUntil - now;
        }
        long wait = 0;
        if (requestsPerMilli > 0 && requests < 1.0) {
            wait = Math.max(wait, (long) Math.ceil((1.0 - requests) / (requestsPerMilli * factor)));
        }
        // A request larger than the whole bucket may go once the bucket is full.
        double needTokens = Math.min(estimatedTokens, tokenCapacity);
        if (tokensPerMilli > 0 && tokens < needTokens) {
            wait =
                    Math.max(
                            wait,
                            (long) Math.ceil((needTokens - tokens) / (tokensPerMilli * factor)));
        }
        if (wait > 0) {
            return wait;
        }
        requests -= 1.0;
        tokens -= needTokens;
        return 0;
    }

    /** The provider said 429: halve the rate and pause for its advice (or one second). */
    public void onRateLimited(long now, long retryAfterMillis) {
        refill(now);
        factor = Math.max(MIN_FACTOR, factor * DECREASE);
        pausedUntil =
                Math.max(pausedUntil, now + (retryAfterMillis >= 0 ? retryAfterMillis : 1000));
        requests = Math.min(requests, 0);
    }

    /**
     * The provider's headers say a budget is used up until its reset: pause until then, and slow
     * down a little so the next window is not spent as fast.
     */
    public void onBudgetExhausted(long now, long resetMillis) {
        refill(now);
        factor = Math.max(MIN_FACTOR, factor * 0.8);
        pausedUntil = Math.max(pausedUntil, now + resetMillis);
        requests = Math.min(requests, 0);
    }

    /** A call succeeded: creep back towards the configured rate. */
    public void onSuccess() {
        factor = Math.min(1.0, factor + INCREASE);
    }

    /** The request rate currently allowed, per minute (for metrics). */
    public double currentRequestsPerMinute() {
        return requestsPerMilli * factor * 60_000.0;
    }

    private void refill(long now) {
        long elapsed = Math.max(0, now - last);
        last = now;
        requests = Math.min(requestCapacity, requests + elapsed * requestsPerMilli * factor);
        tokens = Math.min(tokenCapacity, tokens + elapsed * tokensPerMilli * factor);
    }
}
