package dev.triage.tools.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Each kind of fault on its own, and the plan's order, without a server or a socket. */
class FaultPlanTest {

    private final ServerCounters counters = new ServerCounters();

    private static ProviderProfile profile(String yaml) throws Exception {
        return ProviderProfile.parse(
                new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "test");
    }

    private static ChatCall call(FaultWindow w, double draw) throws Exception {
        return new ChatCall(
                System.currentTimeMillis(),
                draw,
                w,
                ChatRequest.parse("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
                "Bearer sk-test");
    }

    private static int status(Refusal r) {
        return ((Refusal.Respond) r).status().code();
    }

    @Test
    void theInjectedDrawSplitsIntoDropThenThrottleThenNothing() throws Exception {
        FaultPlan plan = new FaultPlan(ProviderProfile.NONE, counters);
        FaultWindow w = plan.inject(Duration.ofMinutes(1), 0.2, 0.3, 0);

        assertThat(plan.beforeReading(call(w, 0.1))).isEqualTo(Refusal.DROP);
        Refusal throttled = plan.beforeReading(call(w, 0.4));
        assertThat(status(throttled)).isEqualTo(429);
        assertThat(((Refusal.Respond) throttled).headers()).containsEntry("retry-after", "1");
        assertThat(plan.beforeReading(call(w, 0.6))).isNull();
        assertThat(counters.dropped.get()).isOne();
        assertThat(counters.throttled.get()).isOne();
        assertThat(counters.rateLimited.get()).isOne();
    }

    @Test
    void aWindowThatIsOverInjectsNothing() throws Exception {
        FaultPlan plan = new FaultPlan(ProviderProfile.NONE, counters);
        FaultWindow w = plan.inject(Duration.ZERO, 1, 0, 500);
        assertThat(plan.beforeReading(call(w, 0))).isNull();
        assertThat(plan.extraLatencyMs(System.currentTimeMillis())).isZero();
    }

    @Test
    void anOutageAnswersTheProfilesStatusUntilItEnds() throws Exception {
        FaultPlan plan = new FaultPlan(profile("outage:\n  status: 502\n"), counters);
        plan.outage().startNow(60_000);
        assertThat(status(plan.beforeReading(call(FaultWindow.NONE, 0.5)))).isEqualTo(502);
        assertThat(counters.outageRefused.get()).isOne();
        assertThat(plan.outage().recoveryMillis()).isEqualTo(-1);
    }

    @Test
    void aRejectedKeyIsEchoedAndComesBeforeEveryOtherFault() throws Exception {
        FaultPlan plan =
                new FaultPlan(
                        ProviderProfile.NONE
                                .withPermanentFailure("401")
                                .withFaultRates(1, 1, 0, 0, 0),
                        counters);
        Refusal r = plan.afterReading(call(FaultWindow.NONE, 0.5));
        assertThat(status(r)).isEqualTo(401);
        assertThat(((Refusal.Respond) r).body()).contains("sk-test").contains("invalid_api_key");
        assertThat(counters.serverErrors.get()).isZero();
    }

    @Test
    void theRequestLimitRefusesWithRetryAfterAndRateLimitHeaders() throws Exception {
        FaultPlan plan = new FaultPlan(ProviderProfile.NONE.withRateLimits(6, 0, true), counters);
        assertThat(plan.afterReading(call(FaultWindow.NONE, 0.5))).isNull();
        Refusal r = plan.afterReading(call(FaultWindow.NONE, 0.5));
        assertThat(status(r)).isEqualTo(429);
        assertThat(((Refusal.Respond) r).headers())
                .containsKeys("retry-after", "retry-after-ms", "x-ratelimit-limit-requests");
        assertThat(counters.rateLimited.get()).isOne();
    }

    @Test
    void theTokenLimitChargesWhatItLetsThrough() throws Exception {
        FaultPlan plan =
                new FaultPlan(ProviderProfile.NONE.withRateLimits(0, 6000, false), counters);
        assertThat(plan.afterReading(call(FaultWindow.NONE, 0.5))).isNull();
        assertThat(counters.tokensCharged.get()).isEqualTo(5); // "hi": 1 token + 4 a message
        assertThat(plan.rateLimits().headers()).isEmpty();
    }

    @Test
    void beyondTheConcurrencyLimitIsBusy() throws Exception {
        FaultPlan plan = new FaultPlan(profile("max-concurrency: 1\n"), counters);
        assertThat(plan.afterReading(call(FaultWindow.NONE, 0.5))).isNull();
        counters.active.incrementAndGet();
        assertThat(status(plan.afterReading(call(FaultWindow.NONE, 0.5)))).isEqualTo(503);
        assertThat(counters.busy.get()).isOne();
    }

    @Test
    void serverErrorsAre5xxAndTimeoutsHoldTheRequest() throws Exception {
        Refusal error =
                new FaultPlan(ProviderProfile.NONE.withFaultRates(1, 0, 0, 0, 0), counters)
                        .afterReading(call(FaultWindow.NONE, 0.5));
        assertThat(status(error)).isIn(500, 502, 503);
        Refusal held =
                new FaultPlan(ProviderProfile.NONE.withFaultRates(0, 1, 0, 0, 0), counters)
                        .afterReading(call(FaultWindow.NONE, 0.5));
        assertThat(held).isEqualTo(Refusal.HOLD);
        assertThat(counters.serverErrors.get()).isOne();
        assertThat(counters.timeouts.get()).isOne();
    }
}
