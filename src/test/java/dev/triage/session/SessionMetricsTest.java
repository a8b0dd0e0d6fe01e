package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.llm.Endpoint;
import dev.triage.metrics.MetricNames;
import dev.triage.session.OutcomePolicy.FailureKind;

import org.apache.flink.metrics.testutils.MetricListener;
import org.junit.jupiter.api.Test;

/** Each event moves the counters named for it, under the names MetricNames declares. */
class SessionMetricsTest {

    private final MetricListener listener = new MetricListener();
    private final SessionMetrics metrics = new SessionMetrics(listener.getMetricGroup());

    private long count(String name) {
        return listener.getCounter(name).orElseThrow().getCount();
    }

    @Test
    void aCallToTheFallbackIsACallAndAFallbackCall() {
        metrics.callSent(Endpoint.PRIMARY);
        metrics.callSent(Endpoint.FALLBACK);
        assertThat(count(MetricNames.LLM_CALLS)).isEqualTo(2);
        assertThat(count(MetricNames.LLM_FALLBACK_CALLS)).isEqualTo(1);
    }

    @Test
    void failuresAreCountedInAllAndByKind() {
        metrics.callFailed(FailureKind.RATE_LIMITED);
        metrics.callFailed(FailureKind.TIMEOUT);
        metrics.callFailed(FailureKind.SERVER_ERROR);
        metrics.callFailed(FailureKind.REJECTED);
        metrics.callFailed(FailureKind.INVALID_RESPONSE);
        assertThat(count(MetricNames.LLM_FAILURES)).isEqualTo(5);
        assertThat(count(MetricNames.LLM_RATE_LIMITED)).isEqualTo(1);
        assertThat(count(MetricNames.LLM_TIMEOUTS)).isEqualTo(1);
        assertThat(count(MetricNames.LLM_SERVER_ERRORS)).isEqualTo(1);
        assertThat(count(MetricNames.LLM_REJECTED)).isEqualTo(1);
    }

    @Test
    void costIsCountedInMillionths() {
        metrics.billed(0.0025);
        assertThat(count(MetricNames.ESTIMATED_COST_MICROS)).isEqualTo(2_500);
    }

    @Test
    void theGaugesReadTheirSources() {
        long[] pending = {3};
        var gateway =
                new dev.triage.llm.LlmGateway(
                        dev.triage.config.GatewaySettings.from(
                                new org.apache.flink.configuration.Configuration()),
                        s -> null,
                        8,
                        1,
                        0,
                        false);
        metrics.gauges(gateway, () -> pending[0], () -> 2, () -> 1);
        pending[0] = 5;
        assertThat(listener.<Long>getGauge(MetricNames.TICKETS_PENDING).orElseThrow().getValue())
                .isEqualTo(5);
        assertThat(listener.<Integer>getGauge(MetricNames.CALLS_IN_FLIGHT).orElseThrow().getValue())
                .isEqualTo(2);
        assertThat(listener.<Integer>getGauge(MetricNames.CIRCUIT_STATE).orElseThrow().getValue())
                .isZero();
        assertThat(listener.getGauge(MetricNames.FALLBACK_CIRCUIT_STATE))
                .as("no fallback")
                .isEmpty();
    }
}
