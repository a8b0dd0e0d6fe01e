package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.config.GatewaySettings;
import dev.triage.llm.LlmGateway.Route;
import dev.triage.llm.LlmGateway.Verdict;
import dev.triage.testing.TestSettings;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

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

    /** Four attempts, a circuit that opens when half of the last four calls failed. */
    static final String GATEWAY =
            """
            llm.base-url: http://x/primary
            llm.model: m
            llm.api-key-env: ""
            llm.auth: NONE
            llm.max-output-tokens: 100
            llm.request-timeout: 5s
            llm.connect-timeout: 1s
            llm.max-attempts: 4
            llm.ticket-deadline: 15min
            llm.retry.initial-backoff: 100ms
            llm.retry.max-backoff: 1s
            llm.retry.max-advised-wait: 60s
            llm.circuit-breaker.failure-rate: 0.5
            llm.circuit-breaker.window: 4
            llm.circuit-breaker.open-for: 1s
            llm.circuit-breaker.max-open-for: 8s
            llm.adaptive-concurrency.min: 2
            llm.incident-cache.enabled: false
            llm.incident-cache.window: 1min
            llm.incident-cache.max-entries: 10
            """;

    private static GatewaySettings settings(boolean fallback, int rpm, boolean adaptive) {
        return TestSettings.yaml(
                        GATEWAY,
                        "llm.rate-limit.requests-per-minute: " + rpm,
                        "llm.adaptive-concurrency: " + adaptive,
                        fallback
                                ? """
                                  llm.fallback.base-url: http://x/fallback
                                  llm.fallback.model: m
                                  llm.fallback.auth: NONE
                                  """
                                : "")
                .gateway();
    }

    private static LlmGateway gateway(GatewaySettings s, boolean restored) {
        return new LlmGateway(s, e -> new NoClient(e.name()), 32, 2, 0, restored);
    }

    /** A call sent now, or a straggler of an earlier circuit generation when none may go. */
    private static Route sent(LlmGateway g, long now) {
        Route r = g.route(now, 1, false);
        return r.go() ? r : new Route(Endpoint.PRIMARY, 0, false, -1, 0, 0, 0);
    }

    @Test
    void theFallbackAnswersWhileThePrimarysCircuitIsOpen() {
        LlmGateway g = gateway(true, 0, false);
        assertThat(g.route(0, 100, false).endpoint()).isEqualTo(Endpoint.PRIMARY);
        for (int i = 0; i < 2; i++) {
            g.onFailure(sent(g, 0), 0, HTTP_503);
        }
        assertThat(g.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(g.outage()).as("the fallback is still up").isFalse();
        assertThat(g.route(10, 100, false).endpoint()).isEqualTo(Endpoint.FALLBACK);

        // After the wait one probe goes to the primary; its success closes the circuit.
        Route probe = g.route(1000, 100, false);
        assertThat(probe.endpoint()).isEqualTo(Endpoint.PRIMARY);
        assertThat(probe.probe()).isTrue();
        assertThat(g.route(1001, 100, false).endpoint())
                .as("probe out")
                .isEqualTo(Endpoint.FALLBACK);
        g.onReply(probe, 1100, OK, 1);
        assertThat(g.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(g.route(1100, 100, false).endpoint()).isEqualTo(Endpoint.PRIMARY);
    }

    @Test
    void withoutAFallbackAnOpenCircuitMeansWaitAndIsAnOutage() {
        LlmGateway g = gateway(false, 0, false);
        g.onFailure(sent(g, 0), 0, HTTP_503);
        g.onFailure(sent(g, 0), 0, HTTP_503);
        assertThat(g.outage()).isTrue();
        Route r = g.route(200, 100, false);
        assertThat(r.go()).isFalse();
        assertThat(r.waitMillis()).isEqualTo(800);
    }

    @Test
    void aProxyThatRefusesOurCredentialsOpensTheCircuitLikeARejectedKey() {
        LlmException proxyRefused =
                new LlmException(
                        LlmException.Kind.HTTP_STATUS, 407, false, "HTTP 407 from the proxy", null);
        LlmGateway g = gateway(false, 0, false);
        assertThat(g.onFailure(sent(g, 0), 0, proxyRefused))
                .as("no ticket is dead-lettered for a proxy that wants credentials")
                .isEqualTo(Verdict.WAIT);
        assertThat(g.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(g.route(1, 100, false).go()).as("no call until the probe").isFalse();
    }

    @Test
    void aRejectedKeyOpensTheCircuitAndMakesTicketsWaitWithOrWithoutAFallback() {
        LlmGateway alone = gateway(false, 0, false);
        assertThat(alone.onFailure(sent(alone, 0), 0, HTTP_401)).isEqualTo(Verdict.WAIT);
        assertThat(alone.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(alone.outage()).isTrue();
        assertThat(alone.route(1, 100, false).go()).as("no call until the probe").isFalse();

        LlmGateway both = gateway(true, 0, false);
        assertThat(both.onFailure(sent(both, 0), 0, HTTP_401)).isEqualTo(Verdict.WAIT);
        assertThat(both.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(both.route(1, 100, false).endpoint()).isEqualTo(Endpoint.FALLBACK);
        assertThat(both.route(1, 100, true).endpoint())
                .as("a ticket the primary rejected")
                .isEqualTo(Endpoint.FALLBACK);
    }

    @Test
    void onlyFailuresWhileTheProviderIsHealthyCountAgainstTheTicket() {
        LlmGateway g = gateway(false, 0, false);
        assertThat(g.onFailure(sent(g, 0), 0, BAD_REQUEST)).isEqualTo(Verdict.REJECTED);
        assertThat(g.onFailure(sent(g, 0), 0, RATE_LIMITED)).isEqualTo(Verdict.WAIT);
        Route failing = sent(g, 1);
        g.onReply(sent(g, 1), 2, OK, 2); // another call is answered while this one is out
        assertThat(g.onFailure(failing, 3, HTTP_503)).isEqualTo(Verdict.COUNTS);
        failing = sent(g, 4);
        g.onReply(sent(g, 4), 5, OK, 2);
        assertThat(g.onFailure(failing, 6, HTTP_503))
                .as("the failure that opens the circuit is the outage's, not the ticket's")
                .isEqualTo(Verdict.WAIT);
        assertThat(g.onFailure(sent(g, 6), 7, HTTP_503)).as("a straggler").isEqualTo(Verdict.WAIT);
        Route probe = g.route(2000, 100, false);
        assertThat(probe.probe()).isTrue();
        assertThat(g.onFailure(probe, 2000, HTTP_503)).isEqualTo(Verdict.WAIT);
    }

    /** Three answered calls at {@code now}: the breaker's window (4) forgets earlier failures. */
    private static void answered(LlmGateway g, long now) {
        for (int i = 0; i < 3; i++) {
            g.onReply(sent(g, now), now, OK, 1);
        }
    }

    @Test
    void aFailureCountsOnlyIfTheEndpointAnsweredAnotherCallSinceItWentOut() {
        // The simulation's seed 9: one ticket, an outage too sparse for the breaker to see (window
        // 4, one call at a time). Nothing else is answered while its calls are out, so from its
        // failures alone an outage and a ticket the provider cannot answer look the same: wait.
        LlmGateway g = gateway(false, 0, false);
        answered(g, 10); // healthy until now
        Route lone = sent(g, 20);
        assertThat(g.onFailure(lone, 30, TIMEOUT)).isEqualTo(Verdict.WAIT);
        assertThat(g.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.CLOSED);
        // Answers before the call went out are no evidence, whatever the clock says.
        answered(g, 35);
        Route after = sent(g, 40);
        assertThat(g.onFailure(after, 50, HTTP_503)).isEqualTo(Verdict.WAIT);
        // An answer while it was out is: the provider was up, the failure is about this call.
        answered(g, 55);
        Route shown = sent(g, 60);
        g.onReply(sent(g, 60), 61, OK, 2);
        assertThat(g.onFailure(shown, 70, HTTP_503)).isEqualTo(Verdict.COUNTS);
        // A 400 about one request shows the provider is up too.
        answered(g, 75);
        Route afterRejection = sent(g, 80);
        assertThat(g.onFailure(sent(g, 80), 81, BAD_REQUEST)).isEqualTo(Verdict.REJECTED);
        assertThat(g.onFailure(afterRejection, 90, TIMEOUT)).isEqualTo(Verdict.COUNTS);
        // With one call at a time, answers to others while the ticket waited for its retry count:
        // the operator judges the retry from the answer count at the ticket's previous call.
        answered(g, 95);
        Route previous = sent(g, 100);
        g.onFailure(previous, 101, TIMEOUT);
        answered(g, 110); // other sessions, during the backoff
        Route retry = sent(g, 120);
        assertThat(g.onFailure(retry, 130, TIMEOUT)).isEqualTo(Verdict.WAIT);
        answered(g, 135); // (keeps the breaker's window of 4 from opening)
        Route judged = sent(g, 140).since(previous.answersAtSend());
        assertThat(g.onFailure(judged, 150, TIMEOUT)).isEqualTo(Verdict.COUNTS);
    }

    @Test
    void aRestoredGatewayProbesFirstAndThenRampsUpInsteadOfBursting() {
        LlmGateway g = gateway(settings(false, 0, false), true);
        assertThat(g.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        Route probe = g.route(0, 100, false);
        assertThat(probe.go()).isTrue();
        assertThat(probe.probe()).isTrue();
        assertThat(g.route(0, 100, false).go()).as("one probe only").isFalse();
        g.onReply(probe, 10, OK, 1);
        assertThat(g.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(g.concurrencyLimit()).as("slow start from the minimum").isLessThan(4);
        for (int i = 0; i < 40; i++) {
            g.onReply(g.route(20, 1, false), 20, OK, 1);
        }
        assertThat(g.concurrencyLimit()).isEqualTo(32);

        LlmGateway fresh = gateway(false, 0, false);
        assertThat(fresh.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(fresh.concurrencyLimit()).isEqualTo(32);
    }

    @Test
    void a429SlowsTheEndpointDownWithoutOpeningItsCircuit() {
        LlmGateway g = gateway(false, 600, true);
        double before = g.allowedRequestsPerMinute(Endpoint.PRIMARY);
        assertThat(before).isEqualTo(300); // 600 rpm over 2 subtasks
        g.onFailure(sent(g, 0), 0, RATE_LIMITED);
        g.onFailure(sent(g, 0), 0, RATE_LIMITED);
        assertThat(g.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(g.allowedRequestsPerMinute(Endpoint.PRIMARY)).isLessThan(before);
        assertThat(g.route(100, 10, false).waitMillis()).as("honours the advice").isPositive();
        assertThat(g.concurrencyLimit()).isLessThan(32);
    }

    @Test
    void timeoutsShrinkTheConcurrencyLimit() {
        LlmGateway g = gateway(false, 0, true);
        g.onFailure(sent(g, 0), 0, TIMEOUT);
        assertThat(g.concurrencyLimit()).isEqualTo(28);
    }

    @Test
    void aRateLimitedPrimaryMakesCallsWaitRatherThanSpillToTheFallback() {
        LlmGateway g = gateway(true, 60, false); // 30 a minute on this subtask: 1 burst
        assertThat(g.route(0, 10, false).endpoint()).isEqualTo(Endpoint.PRIMARY);
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
