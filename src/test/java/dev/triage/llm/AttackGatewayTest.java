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
        assertThat(g.circuit(0)).isEqualTo(CircuitBreaker.State.OPEN);

        Route probe = g.route(1100, 10, false);
        assertThat(probe.probe()).isTrue();
        g.onReply(probe, 1200, OK, 2);
        assertThat(g.circuit(0)).isEqualTo(CircuitBreaker.State.CLOSED);

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
        assertThat(g.circuit(0)).isEqualTo(CircuitBreaker.State.OPEN);
        Route probe = g.route(1100, 10, false);
        g.onReply(probe, 1200, OK, 3);
        assertThat(g.circuit(0)).isEqualTo(CircuitBreaker.State.CLOSED);
        // The provider is healthy again; only the two calls from before the outage time out.
        g.onFailure(s1, 60_000, TIMEOUT);
        g.onFailure(s2, 60_000, TIMEOUT);
        assertThat(g.circuit(0))
                .as("the probe proved the provider up; old calls are no news")
                .isEqualTo(CircuitBreaker.State.CLOSED);
    }

    // ------------------------------------------------------------------ fixtures

    private static LlmGateway gateway() {
        GatewaySettings s =
                new GatewaySettings(
                        List.of(endpoint("primary")),
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
                        false,
                        2,
                        false,
                        Duration.ofMinutes(1),
                        10);
        return new LlmGateway(s, e -> new NoClient(), 32, 1, 0, false);
    }

    private static LlmSettings endpoint(String name) {
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
                0,
                0,
                0,
                100,
                Duration.ofSeconds(5),
                Duration.ofSeconds(1),
                0.0,
                0.0);
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
