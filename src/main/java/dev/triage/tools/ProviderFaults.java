package dev.triage.tools;

import java.util.concurrent.ThreadLocalRandom;

/**
 * What the local model server does wrong on purpose, to behave like a real provider under load: a
 * request-per-minute limit answered with 429 (with OpenAI-style {@code Retry-After} and {@code
 * x-ratelimit-*} headers, or without headers), a rate of 5xx answers, or a permanent failure (401,
 * or 429 {@code insufficient_quota}).
 *
 * @param rpm requests per minute before 429s; 0 means no limit
 * @param rateLimitHeaders whether 429s carry Retry-After and x-ratelimit-* headers
 * @param serverErrorRate share of requests answered with a 500, 502 or 503
 * @param permanent null, "401" or "quota"
 */
public record ProviderFaults(
        int rpm, boolean rateLimitHeaders, double serverErrorRate, String permanent) {

    public static final ProviderFaults NONE = new ProviderFaults(0, true, 0.0, null);

    boolean serverError() {
        return serverErrorRate > 0 && ThreadLocalRandom.current().nextDouble() < serverErrorRate;
    }

    /**
     * A token bucket for the RPM limit: refills rpm/60 per second and holds at most 10 seconds'
     * worth, so bursts are cut the way providers enforce per-minute limits over short windows.
     */
    static final class RequestBucket {
        private final double perMilli;
        private final double capacity;
        private double tokens;
        private long last;

        RequestBucket(int rpm) {
            this.perMilli = rpm / 60_000.0;
            this.capacity = Math.max(1.0, rpm / 6.0);
            this.tokens = capacity;
            this.last = System.currentTimeMillis();
        }

        /** Takes a token, or returns the milliseconds until one is available. */
        synchronized long tryTake() {
            long now = System.currentTimeMillis();
            tokens = Math.min(capacity, tokens + (now - last) * perMilli);
            last = now;
            if (tokens >= 1.0) {
                tokens -= 1.0;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1.0 - tokens) / perMilli));
        }
    }
}
