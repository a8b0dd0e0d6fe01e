package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

/** The gateway's small pure parts: AIMD concurrency, token estimate, headers, incident cache. */
class GatewayPartsTest {

    @Test
    void concurrencyShrinksByATenthOnOverloadAndRegrowsWhileInUse() {
        AdaptiveConcurrency c = new AdaptiveConcurrency(true, 2, 64);
        assertThat(c.limit()).isEqualTo(64);
        c.onOverload();
        assertThat(c.limit()).isEqualTo(57);
        for (int i = 0; i < 100; i++) {
            c.onOverload();
        }
        assertThat(c.limit()).isEqualTo(2);
        c.onSuccess(0); // idle: an unused limit does not grow
        assertThat(c.limit()).isEqualTo(2);
        for (int i = 0; i < 200; i++) {
            c.onSuccess(c.limit());
        }
        assertThat(c.limit()).isEqualTo(64);
    }

    @Test
    void disabledConcurrencyStaysAtTheMaximum() {
        AdaptiveConcurrency c = new AdaptiveConcurrency(false, 2, 16);
        c.onOverload();
        assertThat(c.limit()).isEqualTo(16);
    }

    @Test
    void aRequestCostsItsPromptEstimatePlusTheWholeOutputLimit() {
        List<ChatMessage> messages =
                List.of(ChatMessage.system("x".repeat(400)), ChatMessage.user("y".repeat(41)));
        // 441 chars -> 111 tokens, plus 4 framing tokens per message
        assertThat(TokenEstimate.promptTokens(messages)).isEqualTo(119);
        assertThat(TokenEstimate.requestTokens(messages, 512)).isEqualTo(631);
    }

    @Test
    void goDurationsInRateLimitHeaders() {
        assertThat(RateLimitStatus.duration("12ms")).isEqualTo(12);
        assertThat(RateLimitStatus.duration("1.5s")).isEqualTo(1500);
        assertThat(RateLimitStatus.duration("6m0s")).isEqualTo(360_000);
        assertThat(RateLimitStatus.duration("1h2m3s")).isEqualTo(3_723_000);
        assertThat(RateLimitStatus.duration("soon")).isEqualTo(-1);
        assertThat(RateLimitStatus.duration("5x")).isEqualTo(-1);
        assertThat(RateLimitStatus.duration(null)).isEqualTo(-1);
    }

    @Test
    void anExhaustedBudgetIsWhatTheHeadersSayIsUsedUp() {
        Map<String, String> h =
                Map.of(
                        "x-ratelimit-remaining-requests", "12",
                        "x-ratelimit-remaining-tokens", "0",
                        "x-ratelimit-reset-tokens", "2s");
        RateLimitStatus s = RateLimitStatus.from(h::get);
        assertThat(s.remainingRequests()).isEqualTo(12);
        assertThat(s.exhaustedForMillis()).isEqualTo(2000);
        assertThat(RateLimitStatus.from(k -> null)).isSameAs(RateLimitStatus.UNKNOWN);
        assertThat(RateLimitStatus.UNKNOWN.exhaustedForMillis()).isZero();
    }

    @Test
    void theIncidentCacheMatchesNormalizedFirstTicketsWithinItsWindow() {
        String a = IncidentCache.normalize("Site DOWN?", "Is the  site down?!  ");
        String b = IncidentCache.normalize("site down", "is the site down");
        String c = IncidentCache.normalize("Café", "ÇA marche pas");
        assertThat(a).isEqualTo(b).isEqualTo("site down is the site down");
        assertThat(c).isEqualTo("cafe ca marche pas");

        IncidentCache cache = new IncidentCache(1000, 2);
        TriageAnswer answer =
                new TriageAnswer("technical", "high", "negative", "Site down.", "We know.", 0.9);
        assertThat(cache.get(a, 0)).isNull();
        cache.put(a, answer, "m", 0);
        assertThat(cache.get(b, 999).getKey()).isEqualTo(answer);
        assertThat(cache.get(b, 999).getValue()).isEqualTo("m");
        assertThat(cache.get(b, 1001)).as("expired").isNull();
        assertThat(cache.hits()).isEqualTo(2);
        assertThat(cache.misses()).isEqualTo(2);

        cache.put("one", answer, "m", 0);
        cache.put("two", answer, "m", 0);
        cache.put("three", answer, "m", 0);
        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.get("one", 0)).as("least recently used goes first").isNull();
    }
}
