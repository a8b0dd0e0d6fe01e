package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.Random;

class OutcomeHistoryTest {

    private static final int TICKET = 7;

    @Test
    void aHealthyEndpointLeavesMaxAttemptsAsTheBudget() {
        OutcomeHistory h = new OutcomeHistory();
        for (int i = 0; i < OutcomeHistory.SIZE; i++) {
            h.record(100 + i % 50, false);
        }
        assertThat(h.failureRateOfOthers(TICKET)).isLessThan(0.01);
        assertThat(h.chancesNeeded(TICKET, 4)).isEqualTo(4);
    }

    @Test
    void theTicketsOwnFailuresAreNoEvidenceThatTheEndpointIsFlaky() {
        OutcomeHistory h = new OutcomeHistory();
        for (int i = 0; i < OutcomeHistory.SIZE; i++) {
            h.record(i % 3 == 0 ? TICKET : 100 + i, i % 3 == 0);
        }
        assertThat(h.chancesNeeded(TICKET, 4)).isEqualTo(4);
        assertThat(h.chancesNeeded(100, 4))
                .as("another session: the poison ticket was never answered, so it is no evidence")
                .isEqualTo(4);
    }

    @Test
    void anEndpointFailingThirtyPercentOfCallsNeedsAOneInAMillionRun() {
        OutcomeHistory h = new OutcomeHistory();
        Random r = new Random(1);
        for (int i = 0; i < 1_000; i++) {
            h.record(100 + i % 50, r.nextDouble() < 0.3);
        }
        int needed = h.chancesNeeded(TICKET, 4);
        assertThat(needed).isBetween(10, 20);
        assertThat(Math.pow(0.3, needed - 1))
                .as("a ticket dropped once, then %s more times in a row", needed - 1)
                .isLessThan(1e-4);
    }

    @Test
    void theStartOfAFaultIsNotJudgedByTheCalmBeforeIt() {
        OutcomeHistory h = new OutcomeHistory();
        for (int i = 0; i < OutcomeHistory.SIZE - 20; i++) {
            h.record(100 + i % 50, false);
        }
        for (int i = 0; i < 20; i++) {
            if (i % 10 < 3) {
                h.record(100 + i, true); // 6 of the last 20 answered tickets failed once first
            }
            h.record(100 + i, false);
        }
        assertThat(h.failureRateOfOthers(TICKET)).isEqualTo(6 / 26.0);
        assertThat(h.chancesNeeded(TICKET, 4)).isEqualTo(10);
    }

    @Test
    void fewOutcomesSayLittleSoTheBudgetIsCautious() {
        OutcomeHistory h = new OutcomeHistory();
        assertThat(h.failureRateOfOthers(TICKET)).isEqualTo(0.5);
        assertThat(h.chancesNeeded(TICKET, 4)).isEqualTo(20);
        for (int i = 0; i < 8; i++) {
            h.record(100, false);
        }
        assertThat(h.chancesNeeded(TICKET, 3)).isEqualTo(6); // (0 + 1) / (8 + 2) = 0.1
    }

    @Test
    void aTicketThatEndsWithoutAnAnswerLeavesNothingBehind() {
        OutcomeHistory h = new OutcomeHistory();
        for (int i = 0; i < OutcomeHistory.SIZE; i++) {
            h.record(100 + i, false);
        }
        for (int i = 0; i < 30; i++) {
            h.record(5, true); // a poison ticket of session 5, dead-lettered
        }
        h.forget(5);
        h.record(5, false); // the session's next ticket is answered at once
        assertThat(h.chancesNeeded(TICKET, 4)).isEqualTo(4);
    }

    @Test
    void theBudgetIsBoundedByTheRates() {
        assertThat(OutcomeHistory.forRate(0, 4)).isEqualTo(4);
        assertThat(OutcomeHistory.forRate(1, 4)).isEqualTo(Integer.MAX_VALUE);
        assertThat(OutcomeHistory.forRate(0.5, 4)).isEqualTo(20);
        assertThat(OutcomeHistory.forRate(0.001, 1)).isEqualTo(2);
    }
}
