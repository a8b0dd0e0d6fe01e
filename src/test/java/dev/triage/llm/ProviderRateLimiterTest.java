package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

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

    @Test
    void aRequestLargerThanTheBucketIsChargedItsFullSize() {
        // The case: 200k TPM over 4 subtasks is 50k each; 3,000-token requests.
        ProviderRateLimiter limiter = new ProviderRateLimiter(0, 50_000, 1.0, 0);
        long granted = 0;
        for (long now = 0; now < 60_000; now += 10) {
            if (limiter.tryAcquire(now, 3_000) == 0) {
                granted += 3_000;
            }
        }
        assertThat(granted).isLessThanOrEqualTo(50_000).isGreaterThanOrEqualTo(45_000);
    }

    @Test
    void aRequestLargerThanTheWholeBudgetGoesAloneInItsWindow() {
        ProviderRateLimiter limiter = new ProviderRateLimiter(0, 10_000, 1.0, 0);
        assertThat(limiter.tryAcquire(0, 500)).isZero();
        long wait = limiter.tryAcquire(1_000, 25_000);
        assertThat(wait).as("waits until the 500 leave the window").isEqualTo(59_000);
        assertThat(limiter.tryAcquire(60_000, 25_000)).isZero();
        // Nothing else in any window that holds it, and the bucket's debt is paid back after.
        assertThat(limiter.tryAcquire(119_999, 1)).isPositive();
        assertThat(limiter.tryAcquire(120_000 + 150_000, 100)).isZero();
    }

    @Test
    void keepsUnderTheBudgetWithSteadyDemandAfterABurstWithoutStarving() {
        // Many sizes: the minute's grants stay under the budget and use most of it.
        for (int size : new int[] {100, 800, 3_000, 20_000}) {
            ProviderRateLimiter limiter = new ProviderRateLimiter(0, 50_000, 1.0, 0);
            List<long[]> grants = new ArrayList<>();
            long now = 0;
            while (now < 600_000) {
                long wait = limiter.tryAcquire(now, size);
                if (wait == 0) {
                    grants.add(new long[] {now, size});
                    limiter.onSuccess();
                } else {
                    now += wait;
                }
            }
            assertThat(worstWindow(grants, 600_000)[1])
                    .as("size %d", size)
                    .isLessThanOrEqualTo(50_000);
            long total = grants.stream().mapToLong(g -> g[1]).sum();
            long fitting = 50_000 / size * size; // whole requests that fit in a minute
            assertThat(total)
                    .as("tokens in 10 min at size %d", size)
                    .isGreaterThanOrEqualTo(9 * fitting);
        }
    }

    /**
     * The guarantee, checked against an adversary: for many seeds, random budgets and burst
     * lengths, request sizes from tiny to far larger than the bucket (and than the whole budget),
     * random arrival times (early retries too), 429s with and without advice, budget-exhausted
     * headers and long idle gaps; then every sliding 60-s window of the grants.
     */
    @Test
    void noSixtySecondWindowEverExceedsTheBudget() {
        int seeds = Integer.getInteger("limiter.seeds", 400);
        Long only = Long.getLong("limiter.seed");
        for (long seed = only == null ? 0 : only;
                seed < (only == null ? seeds : only + 1);
                seed++) {
            checkWindows(seed);
        }
    }

    private static void checkWindows(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double rpm = rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextDouble() * 1200;
        double tpm = rpm > 0 && rnd.nextInt(3) == 0 ? 0 : 1_000 + rnd.nextDouble() * 200_000;
        double burst = new double[] {0.2, 1.0, 1.0, 2.0, 10.0}[rnd.nextInt(5)];
        long start = rnd.nextLong(1L << 40);
        ProviderRateLimiter limiter = new ProviderRateLimiter(rpm, tpm, burst, start);
        double bucket = tpm / 60.0 * burst;
        List<long[]> grants = new ArrayList<>();
        long now = start;
        int size = nextSize(rnd, bucket, tpm);
        long pendingSince = now;
        // Liveness: the longest a request may wait, at the slowest AIMD rate (5% of the
        // configured one), behind the largest debt (a request of 4 budgets), plus a window and
        // the longest pause.
        double slowest = 0.05;
        long patience =
                65_000
                        + (long)
                                Math.max(
                                        rpm > 0 ? 2 * 60_000 / (rpm * slowest) : 0,
                                        tpm > 0
                                                ? (4 * tpm + bucket) * 60_000 / (tpm * slowest)
                                                : 0);
        for (int step = 0; step < 3_000; step++) {
            long wait = limiter.tryAcquire(now, size);
            if (wait == 0) {
                grants.add(new long[] {now, size});
                switch (rnd.nextInt(10)) {
                    case 0 ->
                            limiter.onRateLimited(now, rnd.nextBoolean() ? -1 : rnd.nextInt(5_000));
                    case 1 -> limiter.onBudgetExhausted(now, rnd.nextInt(3_000));
                    default -> limiter.onSuccess();
                }
                size = nextSize(rnd, bucket, tpm);
                pendingSince = now;
                int gap = rnd.nextInt(20);
                now += gap == 0 ? rnd.nextLong(600_000) : gap < 10 ? 0 : rnd.nextInt(500);
            } else {
                assertThat(now - pendingSince)
                        .as("seed %d: a request of %d tokens waits for ever", seed, size)
                        .isLessThanOrEqualTo(patience);
                // Retry at the advised time, or earlier, as another session's ticket would.
                now += rnd.nextInt(4) == 0 ? 1 + rnd.nextLong(wait) : wait;
            }
        }
        long[] worst = worstWindow(grants, 0);
        String where =
                "seed %d (rpm %.1f, tpm %.0f, burst %.1f s): window at +%d ms"
                        .formatted(seed, rpm, tpm, burst, worst[2] - start);
        if (rpm > 0) {
            assertThat(worst[0])
                    .as("requests, " + where)
                    .isLessThanOrEqualTo((long) Math.max(1, rpm));
        }
        if (tpm > 0) {
            long[] worstShared = worstWindow(grants, (long) tpm);
            assertThat(worstShared[1])
                    .as("tokens, " + where + " / " + (worstShared[2] - start))
                    .isLessThanOrEqualTo((long) tpm);
        }
    }

    private static int nextSize(SplittableRandom rnd, double bucket, double tpm) {
        return switch (rnd.nextInt(6)) {
            case 0 -> 1 + rnd.nextInt(50);
            case 1, 2 -> 1 + rnd.nextInt((int) Math.max(1, bucket));
            case 3 -> (int) Math.max(1, bucket * (1 + rnd.nextDouble() * 10));
            case 4 -> (int) Math.max(1, tpm * rnd.nextDouble());
            default -> (int) Math.max(1, tpm * (1 + rnd.nextDouble() * 3)); // > the whole budget
        };
    }

    /**
     * The window [t, t + 60 s) starting at a grant with the most requests and, among windows with
     * more than one grant or with tokens up to {@code alone}, the most tokens: {requests, tokens,
     * start}. A window holding one request larger than {@code alone} is not counted for tokens
     * (such a request may only go alone); with {@code alone} 0 every window counts.
     */
    private static long[] worstWindow(List<long[]> grants, long alone) {
        long[] worst = {0, 0, 0};
        int j = 0;
        long tokens = 0;
        for (int i = 0; i < grants.size(); i++) {
            long from = grants.get(i)[0];
            while (j < grants.size() && grants.get(j)[0] < from + ProviderRateLimiter.WINDOW_MS) {
                tokens += grants.get(j)[1];
                j++;
            }
            long count = j - i;
            boolean loneGiant = count == 1 && alone > 0 && tokens > alone;
            if (count > worst[0]) {
                worst[0] = count;
                worst[2] = from;
            }
            if (!loneGiant && tokens > worst[1]) {
                worst[1] = tokens;
                worst[2] = from;
            }
            tokens -= grants.get(i)[1];
        }
        return worst;
    }
}
