package dev.triage.tools.simulator;

import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The profile's requests-per-minute and tokens-per-minute limits: 429 {@code rate_limit_exceeded}
 * beyond them, with {@code Retry-After} and OpenAI-style {@code x-ratelimit-*} headers when the
 * profile sends headers. A request refused for tokens gives back the request it took.
 */
final class RateLimits implements Fault {
    private final ProviderProfile profile;
    private final ServerCounters counters;
    private final RateBucket requestBucket;
    private final RateBucket tokenBucket;

    RateLimits(ProviderProfile profile, ServerCounters counters) {
        this.profile = profile;
        this.counters = counters;
        this.requestBucket = profile.rpm() > 0 ? new RateBucket(profile.rpm()) : null;
        this.tokenBucket = profile.tpm() > 0 ? new RateBucket(profile.tpm()) : null;
    }

    @Override
    public Refusal apply(ChatCall call) {
        long waitMs = requestBucket == null ? 0 : requestBucket.tryTake(1);
        String limited = "requests";
        if (waitMs == 0 && tokenBucket != null) {
            int cost = call.request().promptTokens() + call.request().maxTokens();
            waitMs = tokenBucket.tryTake(cost);
            limited = "tokens";
            if (waitMs == 0) {
                counters.tokensCharged.addAndGet(cost);
            } else if (requestBucket != null) {
                requestBucket.giveBack(1);
            }
        }
        if (waitMs == 0) {
            return null;
        }
        counters.rateLimited.incrementAndGet();
        Map<String, String> headers = new LinkedHashMap<>();
        if (profile.rateLimitHeaders()) {
            headers.put("retry-after", String.valueOf((waitMs + 999) / 1000));
            headers.put("retry-after-ms", String.valueOf(waitMs));
            headers.putAll(headers());
        }
        return Refusal.error(
                HttpResponseStatus.TOO_MANY_REQUESTS,
                "Rate limit reached for " + limited + ".",
                limited,
                "rate_limit_exceeded",
                headers);
    }

    /** OpenAI-style x-ratelimit-* headers, when the profile has limits and sends headers. */
    Map<String, String> headers() {
        Map<String, String> headers = new LinkedHashMap<>();
        if (!profile.rateLimitHeaders()) {
            return headers;
        }
        if (requestBucket != null) {
            headers.put("x-ratelimit-limit-requests", String.valueOf(profile.rpm()));
            headers.put(
                    "x-ratelimit-remaining-requests", String.valueOf(requestBucket.remaining()));
            headers.put("x-ratelimit-reset-requests", requestBucket.resetMillis() + "ms");
        }
        if (tokenBucket != null) {
            headers.put("x-ratelimit-limit-tokens", String.valueOf(profile.tpm()));
            headers.put("x-ratelimit-remaining-tokens", String.valueOf(tokenBucket.remaining()));
            headers.put("x-ratelimit-reset-tokens", tokenBucket.resetMillis() + "ms");
        }
        return headers;
    }
}
