package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProviderRateLimiterTest {

    @Test
    void sendsAtMostTheConfiguredRequestsPerMinuteAfterTheBurst() {
        // 600 requests/minute = 10/s, a one-second burst.
        ProviderRateLimiter limiter = new ProviderRateLimiter(600, 0, 1.0, 0);
        int sent = 0;
        for (long now = 0; now < 10_000; now++) {
            while (limiter.tryAcquire(now, 100) == 0) {
                sent++;
            }
        }
        assertThat(sent).isBetween(100, 111); // 10 s x 10/s, plus the 10-request burst
    }

    @Test
    void tellsHowLongToWait() {
        ProviderRateLimiter limiter = new ProviderRateLimiter(60, 0, 1.0, 0); // 1/s, burst 1
        assertThat(limiter.tryAcquire(0, 1)).isZero();
        assertThat(limiter.tryAcquire(0, 1)).isEqualTo(1000);
        assertThat(limiter.tryAcquire(600, 1)).isEqualTo(400);
        assertThat(limiter.tryAcquire(1000, 1)).isZero();
    }

    @Test
    void limitsTokensPerMinuteToo() {
        // 60,000 tokens/minute = 1,000/s; requests of 500 tokens: 2 per second.
        ProviderRateLimiter limiter = new ProviderRateLimiter(0, 60_000, 1.0, 0);
        int sent = 0;
        for (long now = 0; now < 5_000; now++) {
            while (limiter.tryAcquire(now, 500) == 0) {
                sent++;
            }
        }
        assertThat(sent).isBetween(10, 12);
    }

    @Test
    void slowsDownOn429AndSpeedsBackUpOnSuccess() {
        ProviderRateLimiter limiter = new ProviderRateLimiter(600, 0, 1.0, 0);
        limiter.onRateLimited(0, 2000);
        assertThat(limiter.currentRequestsPerMinute()).isEqualTo(300.0);
        assertThat(limiter.tryAcquire(500, 1)).isEqualTo(1500); // paused as advised
        limiter.onRateLimited(600, -1);
        assertThat(limiter.currentRequestsPerMinute()).isEqualTo(150.0);
        for (int i = 0; i < 100; i++) {
            limiter.onSuccess();
        }
        assertThat(limiter.currentRequestsPerMinute()).isEqualTo(600.0);
    }
}
