package dev.triage.llm;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * This subtask's share of the provider's request and token limits. Two parts:
 *
 * <ul>
 *   <li>a hard cap: the grants of the last 60 s are kept, and a request goes only if it fits, with
 *       them, in the per-minute budget. So over any 60-s window this subtask is never granted more
 *       than its budget of requests and tokens (a request larger than the whole budget is the one
 *       exception: it goes alone, in a window with nothing else in it);
 *   <li>two token buckets that smooth the sending, slowed down multiplicatively when the provider
 *       answers 429 and sped back up additively on success (AIMD), so that the job stays under
 *       limits it does not know exactly, and providers that enforce a minute's budget over a few
 *       seconds (Azure) see no burst of a whole minute. A request is charged its full size: one
 *       larger than the bucket goes when the bucket is full and leaves it in debt, which is paid
 *       back before the next request goes.
 * </ul>
 *
 * A bucket alone cannot give the per-minute guarantee: a request of size S granted from a full
 * bucket after a minute of steady sending makes the window hold about the minute's refill plus S.
 * Not thread-safe: used on the task thread only. Time is passed in, for tests.
 */
public final class ProviderRateLimiter {

    /** The window over which the per-minute budgets hold. */
    public static final long WINDOW_MS = 60_000;

    private static final double MIN_FACTOR = 0.05;
    private static final double DECREASE = 0.5;
    private static final double INCREASE = 0.02;

    private final double requestsPerMilli;
    private final double tokensPerMilli;
    private final double requestCapacity;
    private final double tokenCapacity;

    /** Requests per window; at least one, so that a share below one a minute can still send. */
    private final long requestBudget;

    private final double tokenBudget;

    private double requests;
    private double tokens;
    private double factor = 1.0;
    private long last;
    private long pausedUntil;

    /** The grants of the last {@link #WINDOW_MS}, oldest first. */
    private final ArrayDeque<Grant> window = new ArrayDeque<>();

    private long windowTokens;

    private record Grant(long at, long tokens) {}

    /**
     * @param requestsPerMinute this subtask's request budget; 0 for none
     * @param tokensPerMinute this subtask's token budget; 0 for none
     * @param burstSeconds how much unused budget the smoothing buckets may accumulate
     */
    public ProviderRateLimiter(
            double requestsPerMinute, double tokensPerMinute, double burstSeconds, long now) {
        this.requestsPerMilli = requestsPerMinute / 60_000.0;
        this.tokensPerMilli = tokensPerMinute / 60_000.0;
        this.requestCapacity = Math.max(1.0, requestsPerMilli * burstSeconds * 1000);
        this.tokenCapacity = tokensPerMilli * burstSeconds * 1000;
        this.requestBudget =
                requestsPerMinute > 0 ? Math.max(1, (long) Math.floor(requestsPerMinute)) : 0;
        this.tokenBudget = tokensPerMinute;
        this.requests = requestCapacity;
        this.tokens = tokenCapacity;
        this.last = now;
    }

    /**
     * Milliseconds to wait before a request of {@code estimatedTokens} may be sent; 0 means send
     * now (and the budget is taken: the request is charged in full).
     */
    public long tryAcquire(long now, int estimatedTokens) {
        refill(now);
        expire(now);
        if (now < pausedUntil) {
            return pausedUntil - now;
        }
        long size = Math.max(0, estimatedTokens);
        long wait = 0;
        if (requestsPerMilli > 0 && requests < 1.0) {
            wait = Math.max(wait, (long) Math.ceil((1.0 - requests) / (requestsPerMilli * factor)));
        }
        if (tokensPerMilli > 0) {
            // A request larger than the bucket waits for a full bucket, then takes it into debt.
            double need = Math.min(size, tokenCapacity);
            if (tokens < need) {
                wait =
                        Math.max(
                                wait,
                                (long) Math.ceil((need - tokens) / (tokensPerMilli * factor)));
            }
        }
        wait = Math.max(wait, windowWait(now, size));
        if (wait > 0) {
            return wait;
        }
        requests -= 1.0;
        if (tokensPerMilli > 0) {
            tokens -= size;
        }
        if (requestBudget > 0 || tokenBudget > 0) {
            window.addLast(new Grant(now, size));
            windowTokens += size;
        }
        return 0;
    }

    /** Milliseconds until the last minute's grants leave room for one more of {@code size}. */
    private long windowWait(long now, long size) {
        long until = now;
        if (requestBudget > 0 && window.size() >= requestBudget) {
            // The oldest grants that must leave so that one more fits.
            long mustLeave = window.size() - requestBudget + 1;
            Iterator<Grant> it = window.iterator();
            Grant g = null;
            for (long i = 0; i < mustLeave; i++) {
                g = it.next();
            }
            until = Math.max(until, g.at() + WINDOW_MS);
        }
        if (tokenBudget > 0 && windowTokens + size > tokenBudget) {
            if (size > tokenBudget) {
                // Larger than the whole budget: it goes alone, once the window is empty.
                if (!window.isEmpty()) {
                    until = Math.max(until, window.peekLast().at() + WINDOW_MS);
                }
            } else {
                long left = windowTokens;
                for (Grant g : window) {
                    left -= g.tokens();
                    if (left + size <= tokenBudget) {
                        until = Math.max(until, g.at() + WINDOW_MS);
                        break;
                    }
                }
            }
        }
        return until - now;
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
        last = Math.max(last, now);
        requests = Math.min(requestCapacity, requests + elapsed * requestsPerMilli * factor);
        tokens = Math.min(tokenCapacity, tokens + elapsed * tokensPerMilli * factor);
    }

    /** Drops the grants that no window ending now contains. */
    private void expire(long now) {
        while (!window.isEmpty() && window.peekFirst().at() + WINDOW_MS <= now) {
            windowTokens -= window.pollFirst().tokens();
        }
    }
}
