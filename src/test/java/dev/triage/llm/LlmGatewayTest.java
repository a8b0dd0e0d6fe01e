package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.config.EndpointOptions.Auth;
import dev.triage.config.EndpointOptions.StructuredOutput;
import dev.triage.config.GatewaySettings;
import dev.triage.config.LlmSettings;
import dev.triage.llm.LlmGateway.Route;
import dev.triage.llm.LlmGateway.Verdict;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Routing between primary and fallback, and what outcomes teach the gateway. */
class LlmGatewayTest {

    private static final LlmException HTTP_503 =
            new LlmException(LlmException.Kind.HTTP_STATUS, 503, true, "HTTP 503", null);
    private static final LlmException HTTP_401 =
            new LlmException(LlmException.Kind.HTTP_STATUS, 401, false, "HTTP 401", null);
    private static final LlmException BAD_REQUEST =
            new LlmException(LlmException.Kind.HTTP_STATUS, 400, false, "HTTP 400", null);
    private static final LlmException RATE_LIMITED =
            new LlmException(LlmException.Kind.HTTP_STATUS, 429, true, "HTTP 429", null, 2000);
    private static final LlmException TIMEOUT =
            new LlmException(LlmException.Kind.TIMEOUT, 0, true, "TimeoutException", null);
    private static final LlmReply OK = new LlmReply("{}", "stop", null, "m", 1, 1);

    private LlmGateway gateway(boolean fallback, int rpm, boolean adaptive) {
        return gateway(settings(fallback, rpm, adaptive), false);
    }

    private static GatewaySettings settings(boolean fallback, int rpm, boolean adaptive) {
        List<LlmSettings> endpoints = new ArrayList<>();
        endpoints.add(endpoint("primary", rpm));
        if (fallback) {
            endpoints.add(endpoint("fallback", 0));
        }
        return new GatewaySettings(
                endpoints,
                4,
                Duration.ofMinutes(15),
                Duration.ofMillis(100),
                Duration.ofSeconds(1),
                Duration.ofSeconds(60),
                true,
                0.5,
                4,
                Duration.ofSeconds(1),
                Duration.ofSeconds(8),
                adaptive,
                2,
                false,
                Duration.ofMinutes(1),
                10);
    }

    private static LlmGateway gateway(GatewaySettings s, boolean restored) {
        return new LlmGateway(s, e -> new NoClient(e.name()), 32, 2, 0, restored);
    }

    private static LlmSettings endpoint(String name, int rpm) {
        return new LlmSettings(
                name,
                "http://x/" + name,
                "m",
                "",
                "",
                Auth.NONE,
                "",
                StructuredOutput.JSON_SCHEMA,
                "max_tokens",
                rpm,
                0,
                0,
                100,
                Duration.ofSeconds(5),
                Duration.ofSeconds(1),
                0.0,
                0.0);
    }

    @Test
    void theFallbackAnswersWhileThePrimarysCircuitIsOpen() {
        LlmGateway g = gateway(true, 0, false);
        assertThat(g.route(0, 100, false).endpoint()).isZero();
        for (int i = 0; i < 2; i++) {
            g.onFailure(0, 0, HTTP_503, false);
        }
        assertThat(g.circuit(0)).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(g.outage()).as("the fallback is still up").isFalse();
        assertThat(g.route(10, 100, false).endpoint()).isEqualTo(1);

        // After the wait one probe goes to the primary; its success closes the circuit.
        Route probe = g.route(1000, 100, false);
        assertThat(probe.endpoint()).isZero();
        assertThat(probe.probe()).isTrue();
        assertThat(g.route(1001, 100, false).endpoint()).as("probe out").isEqualTo(1);
        g.onReply(0, 1100, OK, 1, probe.probe());
        assertThat(g.circuit(0)).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(g.route(1100, 100, false).endpoint()).isZero();
    }

    @Test
    void withoutAFallbackAnOpenCircuitMeansWaitAndIsAnOutage() {
        LlmGateway g = gateway(false, 0, false);
        g.onFailure(0, 0, HTTP_503, false);
        g.onFailure(0, 0, HTTP_503, false);
        assertThat(g.outage()).isTrue();
        Route r = g.route(200, 100, false);
        assertThat(r.go()).isFalse();
        assertThat(r.waitMillis()).isEqualTo(800);
    }

    @Test
    void aRejectedKeyOpensTheCircuitAndMakesTicketsWaitWithOrWithoutAFallback() {
        LlmGateway alone = gateway(false, 0, false);
        assertThat(alone.onFailure(0, 0, HTTP_401, false)).isEqualTo(Verdict.WAIT);
        assertThat(alone.circuit(0)).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(alone.outage()).isTrue();
        assertThat(alone.route(1, 100, false).go()).as("no call until the probe").isFalse();

        LlmGateway both = gateway(true, 0, false);
        assertThat(both.onFailure(0, 0, HTTP_401, false)).isEqualTo(Verdict.WAIT);
        assertThat(both.circuit(0)).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(both.route(1, 100, false).endpoint()).isEqualTo(1);
        assertThat(both.route(1, 100, true).endpoint())
                .as("a ticket the primary rejected")
                .isEqualTo(1);
    }

    @Test
    void onlyFailuresWhileTheProviderIsHealthyCountAgainstTheTicket() {
        LlmGateway g = gateway(false, 0, false);
        assertThat(g.onFailure(0, 0, BAD_REQUEST, false)).isEqualTo(Verdict.REJECTED);
        assertThat(g.onFailure(0, 0, RATE_LIMITED, false)).isEqualTo(Verdict.WAIT);
        assertThat(g.onFailure(0, 0, HTTP_503, false)).isEqualTo(Verdict.COUNTS);
        assertThat(g.onFailure(0, 0, HTTP_503, false))
                .as("the failure that opens the circuit is the outage's, not the ticket's")
                .isEqualTo(Verdict.WAIT);
        assertThat(g.onFailure(0, 0, HTTP_503, false)).as("a straggler").isEqualTo(Verdict.WAIT);
        Route probe = g.route(1000, 100, false);
        assertThat(probe.probe()).isTrue();
        assertThat(g.onFailure(0, 1000, HTTP_503, probe.probe())).isEqualTo(Verdict.WAIT);
    }

    @Test
    void aRestoredGatewayProbesFirstAndThenRampsUpInsteadOfBursting() {
        LlmGateway g = gateway(settings(false, 0, false), true);
        assertThat(g.circuit(0)).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        Route probe = g.route(0, 100, false);
        assertThat(probe.go()).isTrue();
        assertThat(probe.probe()).isTrue();
        assertThat(g.route(0, 100, false).go()).as("one probe only").isFalse();
        g.onReply(0, 10, OK, 1, true);
        assertThat(g.circuit(0)).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(g.concurrencyLimit()).as("slow start from the minimum").isLessThan(4);
        for (int i = 0; i < 40; i++) {
            g.onReply(0, 20, OK, 1, false);
        }
        assertThat(g.concurrencyLimit()).isEqualTo(32);

        LlmGateway fresh = gateway(false, 0, false);
        assertThat(fresh.circuit(0)).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(fresh.concurrencyLimit()).isEqualTo(32);
    }

    @Test
    void a429SlowsTheEndpointDownWithoutOpeningItsCircuit() {
        LlmGateway g = gateway(false, 600, true);
        double before = g.allowedRequestsPerMinute(0);
        assertThat(before).isEqualTo(300); // 600 rpm over 2 subtasks
        g.onFailure(0, 0, RATE_LIMITED, false);
        g.onFailure(0, 0, RATE_LIMITED, false);
        assertThat(g.circuit(0)).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(g.allowedRequestsPerMinute(0)).isLessThan(before);
        assertThat(g.route(100, 10, false).waitMillis()).as("honours the advice").isPositive();
        assertThat(g.concurrencyLimit()).isLessThan(32);
    }

    @Test
    void timeoutsShrinkTheConcurrencyLimit() {
        LlmGateway g = gateway(false, 0, true);
        g.onFailure(0, 0, TIMEOUT, false);
        assertThat(g.concurrencyLimit()).isEqualTo(28);
    }

    @Test
    void aRateLimitedPrimaryMakesCallsWaitRatherThanSpillToTheFallback() {
        LlmGateway g = gateway(true, 60, false); // 30 a minute on this subtask: 1 burst
        assertThat(g.route(0, 10, false).endpoint()).isZero();
        Route r = g.route(0, 10, false);
        assertThat(r.go()).isFalse();
        assertThat(r.waitMillis()).isBetween(1000L, 2000L);
    }

    private static final class NoClient implements LlmClient {
        NoClient(String name) {}

        @Override
        public CompletableFuture<LlmReply> complete(List<ChatMessage> m, JsonNode s) {
            return new CompletableFuture<>();
        }

        @Override
        public void close() {}
    }
}
