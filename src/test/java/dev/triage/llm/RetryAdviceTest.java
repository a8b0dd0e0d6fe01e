package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;
import java.util.function.Function;

class RetryAdviceTest {

    private static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");

    private static Function<String, String> headers(String... kv) {
        Map<String, String> map = new java.util.HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            map.put(kv[i], kv[i + 1]);
        }
        return map::get;
    }

    @Test
    void classifiesStatusesLikeTheOfficialClientsButKnowsQuotaFromRateLimits() {
        var none = headers();
        assertThat(
                        RetryAdvice.isRetriable(
                                429, "{\"error\":{\"code\":\"rate_limit_exceeded\"}}", none))
                .isTrue();
        assertThat(
                        RetryAdvice.isRetriable(
                                429, "{\"error\":{\"code\":\"insufficient_quota\"}}", none))
                .isFalse();
        assertThat(
                        RetryAdvice.isRetriable(
                                429, "{\"error\":{\"code\":\"credit_balance_exhausted\"}}", none))
                .isFalse();
        assertThat(
                        RetryAdvice.isRetriable(
                                429,
                                "{\"error\":{\"code\":\"monthly_spend_limit_exceeded\"}}",
                                none))
                .isFalse();
        for (int status : new int[] {408, 409, 500, 502, 503, 504}) {
            assertThat(RetryAdvice.isRetriable(status, "", none)).as("%s", status).isTrue();
        }
        for (int status : new int[] {400, 401, 403, 404, 422}) {
            assertThat(RetryAdvice.isRetriable(status, "", none)).as("%s", status).isFalse();
        }
    }

    @Test
    void xShouldRetryOverridesTheStatus() {
        assertThat(RetryAdvice.isRetriable(400, "", headers("x-should-retry", "true"))).isTrue();
        assertThat(RetryAdvice.isRetriable(503, "", headers("x-should-retry", "false"))).isFalse();
    }

    @Test
    void readsEveryFormOfRetryAfter() {
        assertThat(RetryAdvice.retryAfterMillis(headers("retry-after-ms", "1500"), NOW))
                .isEqualTo(1500);
        assertThat(RetryAdvice.retryAfterMillis(headers("retry-after-ms", "12.7"), NOW))
                .isEqualTo(13);
        assertThat(RetryAdvice.retryAfterMillis(headers("retry-after", "7"), NOW)).isEqualTo(7000);
        assertThat(RetryAdvice.retryAfterMillis(headers("retry-after", "0.5"), NOW)).isEqualTo(500);
        assertThat(
                        RetryAdvice.retryAfterMillis(
                                headers("retry-after", "Sun, 29 Nov 2026 12:00:30 GMT"), NOW))
                .isEqualTo(30_000);
        assertThat(
                        RetryAdvice.retryAfterMillis(
                                headers("retry-after", "Sun, 29 Nov 2026 11:59:00 GMT"), NOW))
                .isZero();
        // retry-after-ms wins over Retry-After; garbage means no advice.
        assertThat(
                        RetryAdvice.retryAfterMillis(
                                headers("retry-after-ms", "200", "retry-after", "9"), NOW))
                .isEqualTo(200);
        assertThat(RetryAdvice.retryAfterMillis(headers("retry-after", "soon"), NOW)).isEqualTo(-1);
        assertThat(RetryAdvice.retryAfterMillis(headers(), NOW)).isEqualTo(-1);
    }

    @Test
    void backsOffExponentiallyWithJitterOrAsAdvised() {
        assertThat(RetryAdvice.backoffMillis(1, -1, 500, 8000, 60_000, 0.0)).isEqualTo(500);
        assertThat(RetryAdvice.backoffMillis(2, -1, 500, 8000, 60_000, 0.0)).isEqualTo(1000);
        assertThat(RetryAdvice.backoffMillis(3, -1, 500, 8000, 60_000, 0.999))
                .isBetween(1500L, 2000L);
        assertThat(RetryAdvice.backoffMillis(10, -1, 500, 8000, 60_000, 0.0)).isEqualTo(8000);
        assertThat(RetryAdvice.backoffMillis(40, -1, 500, 8000, 60_000, 0.0)).isEqualTo(8000);
        assertThat(RetryAdvice.backoffMillis(1, 20_000, 500, 8000, 60_000, 0.5)).isEqualTo(20_000);
        assertThat(RetryAdvice.backoffMillis(1, 600_000, 500, 8000, 60_000, 0.5)).isEqualTo(60_000);
    }
}
