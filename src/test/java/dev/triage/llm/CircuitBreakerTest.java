package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.llm.CircuitBreaker.State;

import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

    @Test
    void opensWhenHalfOfTheWindowFailedAndNotBefore() {
        CircuitBreaker b = new CircuitBreaker(0.5, 10, 1000, 8000);
        for (int i = 0; i < 20; i++) {
            b.onSuccess(false);
        }
        for (int i = 0; i < 4; i++) {
            assertThat(b.onFailure(0, "HTTP 503", false)).isFalse();
        }
        b.onSuccess(false);
        assertThat(b.state()).isEqualTo(State.CLOSED);
        assertThat(b.onFailure(0, "HTTP 503", false)).isTrue(); // 5 of the last 10
        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.reason()).contains("5 of the last 10").contains("HTTP 503");
        assertThat(b.openings()).isEqualTo(1);
    }

    @Test
    void aScatteredErrorRateBelowTheThresholdNeverOpensIt() {
        CircuitBreaker b = new CircuitBreaker(0.5, 20, 1000, 8000);
        for (int i = 0; i < 1000; i++) {
            if (i % 5 == 0) {
                b.onFailure(i, "HTTP 500", false); // 20% errors
            } else {
                b.onSuccess(false);
            }
        }
        assertThat(b.state()).isEqualTo(State.CLOSED);
        assertThat(b.openings()).isZero();
    }

    @Test
    void anOpenCircuitLetsOneProbeThroughAfterTheWaitAndDoublesTheWaitWhenItFails() {
        CircuitBreaker b = new CircuitBreaker(1.0, 2, 1000, 3000);
        b.onFailure(0, "x", false);
        b.onFailure(0, "x", false);
        assertThat(b.waitMillis(400)).isEqualTo(600);
        assertThat(b.waitMillis(1000)).isZero();
        assertThat(b.state()).isEqualTo(State.HALF_OPEN);
        boolean probe = b.onSend();
        assertThat(probe).isTrue();
        assertThat(b.waitMillis(1001)).as("only one probe").isPositive();

        b.onFailure(1500, "probe", probe);
        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.waitMillis(1500)).isEqualTo(2000); // doubled
        assertThat(b.waitMillis(3500)).isZero();
        b.onFailure(3600, "probe", b.onSend());
        assertThat(b.waitMillis(3600)).isEqualTo(3000); // capped

        b.waitMillis(6600);
        assertThat(b.onSuccess(b.onSend())).as("closed by the probe").isTrue();
        assertThat(b.state()).isEqualTo(State.CLOSED);
        assertThat(b.waitMillis(6600)).isZero();
        b.onFailure(7000, "x", false);
        assertThat(b.state()).as("the window starts afresh").isEqualTo(State.CLOSED);
    }

    @Test
    void lateFailuresOfCallsSentBeforeTheCircuitOpenedDoNotExtendIt() {
        CircuitBreaker b = new CircuitBreaker(1.0, 1, 1000, 8000);
        b.onFailure(0, "x", false);
        b.onFailure(500, "late", false);
        assertThat(b.waitMillis(500)).isEqualTo(500);
    }

    @Test
    void aForcedOpeningWaitsTheLongestInterval() {
        CircuitBreaker b = new CircuitBreaker(0.5, 20, 1000, 30_000);
        assertThat(b.forceOpen(0, "HTTP 401")).isTrue();
        assertThat(b.waitMillis(0)).isEqualTo(30_000);
        assertThat(b.forceOpen(10, "again")).isFalse();
    }

    @Test
    void aStragglingSuccessDoesNotCloseAnOpenCircuit() {
        // A partial outage: most calls fail, a few sent before the opening still succeed late.
        CircuitBreaker b = new CircuitBreaker(0.5, 4, 1000, 8000);
        b.onFailure(0, "HTTP 502", false);
        b.onFailure(0, "HTTP 502", false);
        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.onSuccess(false)).as("a straggler, not the probe").isFalse();
        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.waitMillis(10)).isEqualTo(990);

        assertThat(b.waitMillis(1000)).isZero();
        boolean probe = b.onSend();
        assertThat(b.onSuccess(false)).as("a straggler while the probe is out").isFalse();
        b.onFailure(1100, "another straggler", false);
        assertThat(b.state()).as("only the probe decides").isEqualTo(State.HALF_OPEN);
        assertThat(b.onSuccess(probe)).isTrue();
        assertThat(b.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void afterARestoreOnlyOneProbeGoesUntilTheEndpointAnswered() {
        CircuitBreaker b = new CircuitBreaker(0.5, 20, 1000, 8000);
        b.startUnknown();
        assertThat(b.state()).isEqualTo(State.HALF_OPEN);
        assertThat(b.waitMillis(0)).isZero();
        boolean probe = b.onSend();
        assertThat(probe).isTrue();
        assertThat(b.waitMillis(1)).as("everything else waits for the probe").isPositive();
        b.onFailure(5, "HTTP 503: still down", probe);
        assertThat(b.state())
                .as("one failure during an ongoing outage keeps it open")
                .isEqualTo(State.OPEN);
    }
}
