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

/**
 * Adversarial tests of the gateway and its circuit breaker (issue 11 item 3 and the breaker parts
 * of 10): each one shows a defect of the current code and fails until it is fixed.
 */
class AttackGatewayTest {

    private static final LlmException HTTP_503 =
            new LlmException(LlmException.Kind.HTTP_STATUS, 503, true, "HTTP 503", null);
    private static final LlmException TIMEOUT =
            new LlmException(LlmException.Kind.TIMEOUT, 0, true, "request timed out", null);
    private static final LlmReply OK = new LlmReply("{}", "stop", null, "m", 1, 1);

    /**
     * One endpoint; the circuit opens when 2 of the last 4 calls failed, for 1 s. Calls sent while
     * the circuit was closed, still on the wire when it opened, and answered after a probe closed
     * it again, are stragglers of the outage.
     */
    @Test
    void aCallSentBeforeTheCircuitOpenedThatFailsAfterItClosedAgainUsesNoChanceOfItsTicket() {
        LlmGateway g = gateway();
        Route straggler = g.route(0, 10, false); // on the wire for the whole outage
        Route a = g.route(0, 10, false);
        Route b = g.route(0, 10, false);
        assertThat(straggler.probe() || a.probe() || b.probe()).isFalse();
        g.onFailure(a, 100, HTTP_503);
        g.onFailure(b, 100, HTTP_503);
        assertThat(g.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.OPEN);

        Route probe = g.route(1100, 10, false);
        assertThat(probe.probe()).isTrue();
        g.onReply(probe, 1200, OK, 2);
        assertThat(g.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.CLOSED);

        // The request timeout of the call sent at 0 expires at 60 s.
        Verdict v = g.onFailure(straggler, 60_000, TIMEOUT);
        assertThat(v)
                .as("design.md: a straggler sent before the circuit opened waits")
                .isEqualTo(Verdict.WAIT);
    }

    @Test
    void stragglersOfAnOutageFailingAfterTheProbeClosedTheCircuitDoNotOpenItAgain() {
        LlmGateway g = gateway();
        Route s1 = g.route(0, 10, false);
        Route s2 = g.route(0, 10, false);
        Route a = g.route(0, 10, false);
        Route b = g.route(0, 10, false);
        g.onFailure(a, 100, HTTP_503);
        g.onFailure(b, 100, HTTP_503);
        assertThat(g.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.OPEN);
        Route probe = g.route(1100, 10, false);
        g.onReply(probe, 1200, OK, 3);
        assertThat(g.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.CLOSED);
        // The provider is healthy again; only the two calls from before the outage time out.
        g.onFailure(s1, 60_000, TIMEOUT);
        g.onFailure(s2, 60_000, TIMEOUT);
        assertThat(g.circuit(Endpoint.PRIMARY))
                .as("the probe proved the provider up; old calls are no news")
                .isEqualTo(CircuitBreaker.State.CLOSED);
    }

    // ------------------------------------------------------------------ the evidence rule

    /**
     * Processing time is the wall clock, which NTP may step back. The endpoint answered at 10.1 s;
     * the clock steps back 5 s and the provider goes down (one ticket, too sparse for the breaker's
     * window). Nothing was answered while the call sent at 5 s was out, yet the answer stamped 10.1
     * s "is later" than its send.
     */
    @Test
    void aClockSteppedBackDoesNotTurnAnEarlierAnswerIntoEvidenceForAFailureInAnOutage() {
        LlmGateway g = gateway();
        Route answered = g.route(10_000, 10, false);
        g.onReply(answered, 10_100, OK, 1);

        Route lone = g.route(5_000, 10, false); // the clock stepped back 5 s
        Verdict v = g.onFailure(lone, 6_000, TIMEOUT);
        assertThat(g.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(v)
                .as("no other call was answered while this one was out: the ticket waits")
                .isEqualTo(Verdict.WAIT);
    }

    /**
     * The smallest step back: a reply processed at 1,000 ms, then (a VM pause, a slewing clock, or
     * a restore's processing time on a machine 1 ms behind within the same gateway) the next call
     * is routed at 999 ms. The answer came before this call went out, so it is no evidence for its
     * failure; a counter of answers, not a timestamp, would tell.
     */
    @Test
    void anAnswerThatCameBeforeTheFailedCallWentOutIsNoEvidenceEvenAfterAClockJump() {
        LlmGateway g = gateway();
        Route first = g.route(1_000, 10, false);
        g.onReply(first, 1_000, OK, 1);
        // A VM pause or a clock slew: the next routing reads an earlier time than the reply.
        Route second = g.route(999, 10, false);
        Verdict v = g.onFailure(second, 30_000, TIMEOUT);
        assertThat(v)
                .as("the only answer came before this call was sent: the ticket waits")
                .isEqualTo(Verdict.WAIT);
    }

    /**
     * During an outage a proxy or load balancer in front of the provider answers some calls with a
     * 200 maintenance page (not a chat completion) and others with 503. design.md: the evidence
     * that the provider is up is "a reply, or a 4xx about one request"; a body that is not a chat
     * completion is neither, yet it makes the 503 of another ticket count against it.
     */
    @Test
    void aMaintenancePageServedWith200IsNoEvidenceThatTheProviderIsUp() {
        LlmGateway g = gateway();
        Route ticket = g.route(0, 10, false);
        Route other = g.route(0, 10, false);
        LlmException page =
                new LlmException(
                        LlmException.Kind.INVALID_RESPONSE,
                        200,
                        false,
                        "response is not a chat completion: Unexpected character ('<')",
                        "<html>Down for maintenance</html>");
        g.onFailure(other, 50, page);
        Verdict v = g.onFailure(ticket, 100, HTTP_503);
        assertThat(g.circuit(Endpoint.PRIMARY)).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(v)
                .as("the only 'answer' meanwhile was a maintenance page: not evidence")
                .isEqualTo(Verdict.WAIT);
    }

    // ------------------------------------------------------------------ fixtures

    private static LlmGateway gateway() {
        GatewaySettings s =
                TestSettings.yaml(LlmGatewayTest.GATEWAY, "llm.adaptive-concurrency: false")
                        .gateway();
        return new LlmGateway(s, e -> new NoClient(), 32, 1, 0, false);
    }

    private static final class NoClient implements LlmClient {
        @Override
        public CompletableFuture<LlmReply> complete(List<ChatMessage> messages, JsonNode schema) {
            return new CompletableFuture<>();
        }

        @Override
        public void close() {}
    }
}
