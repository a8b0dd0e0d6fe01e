package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Attacks on the failure-rate rule of d2cce0f (docs/design.md "How many failures are no chance"):
 * each test shows a defect of the current code and fails until it is fixed.
 */
class AttackOutcomeHistoryTest {

    private static final int POISON = 7;
    private static final int OTHER_POISON = 8;

    /**
     * A healthy provider that answers every ticket but the poison ones, which fail every time (a
     * text that crashes the model server, a prompt that always times out). The rule excludes only
     * the ticket's own session from the evidence; the failures of another session's poison ticket
     * count as "the endpoint fails others' calls", so one poison call in five makes every poison
     * ticket need 9 counted failures instead of max-attempts (4).
     */
    @Test
    void anotherSessionsPoisonTicketIsNoEvidenceThatTheProviderIsFlaky() {
        OutcomeHistory h = new OutcomeHistory();
        for (int i = 0; i < OutcomeHistory.SIZE; i++) {
            if (i % 5 == 0) {
                h.record(OTHER_POISON, true); // fails every time, as POISON's calls do
            } else {
                h.record(100 + i, false); // every healthy ticket is answered at the first call
            }
        }
        assertThat(h.chancesNeeded(POISON, 4))
                .as(
                        "failure rate of others %s: every failure was a poison ticket's,"
                                + " the provider answered every other call",
                        h.failureRateOfOthers(POISON))
                .isEqualTo(4);
    }

    /**
     * Two poison tickets in two sessions keep each other alive: while healthy traffic is sparse
     * (one answer now and then, so each failure counts), the last 20 calls of others are mostly the
     * other poison ticket's failures: the "plain share of the last 20" is 0.85 and 86 counted
     * failures are needed (all 20: Integer.MAX_VALUE). Only llm.ticket-deadline (15 min) is left as
     * a bound: at the 8-s backoff cap that is about 110 counted calls per poison ticket instead of
     * 4, and the uncounted ones come on top.
     */
    @Test
    void twoPoisonTicketsDoNotKeepEachOtherAlive() {
        OutcomeHistory h = new OutcomeHistory();
        for (int i = 0; i < 150; i++) {
            h.record(100 + i, false); // the provider answered everyone else
        }
        for (int i = 0; i < 25; i++) {
            h.record(OTHER_POISON, true);
            h.record(POISON, true);
            if (i % 5 == 0) {
                h.record(100 + i, false); // a healthy answer now and then
            }
        }
        assertThat(h.chancesNeeded(POISON, 4))
                .as("failure rate of others %s", h.failureRateOfOthers(POISON))
                .isLessThanOrEqualTo(20);
    }
}
