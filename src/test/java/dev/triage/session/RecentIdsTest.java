package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.records.Ticket;

import org.junit.jupiter.api.Test;

import java.util.List;

/** The window of recent ticket ids, as pure functions over the stored list. */
class RecentIdsTest {

    private static Ticket ticket(String id, String body) {
        return SessionOperatorTestBase.ticket("S-1", id, body);
    }

    @Test
    void aRememberedIdRecallsItsContentsFingerprint() {
        Ticket t = ticket("T-1", "hello");
        List<String> window = RecentIds.remembered(null, t, 10);
        assertThat(RecentIds.recall(window, t)).isEqualTo(RecentIds.fingerprint(t));
        assertThat(RecentIds.recall(window, ticket("T-1", "other")))
                .as("same id, other content: the remembered fingerprint")
                .isEqualTo(RecentIds.fingerprint(t))
                .isNotEqualTo(RecentIds.fingerprint(ticket("T-1", "other")));
        assertThat(RecentIds.recall(window, ticket("T-2", "hello"))).isNull();
        assertThat(RecentIds.recall(null, t)).isNull();
    }

    @Test
    void theWindowKeepsTheNewestIds() {
        List<String> window = null;
        for (int i = 1; i <= 4; i++) {
            window = RecentIds.remembered(window, ticket("T-" + i, "x"), 3);
        }
        assertThat(window).hasSize(3);
        assertThat(RecentIds.recall(window, ticket("T-1", "x"))).isNull();
        assertThat(RecentIds.recall(window, ticket("T-4", "x"))).isNotNull();
    }

    @Test
    void idsAreComparedWholeAndForgotten() {
        Ticket nul = ticket("T\u00001", "x");
        List<String> window = RecentIds.remembered(null, nul, 10);
        assertThat(RecentIds.recall(window, ticket("T", "x"))).isNull();
        assertThat(RecentIds.recall(window, ticket("T\u0000", "x"))).isNull();
        assertThat(RecentIds.forgotten(window, ticket("T-9", "x"))).as("not there").isNull();
        assertThat(RecentIds.forgotten(window, nul)).isEmpty();
    }

    @Test
    void aBareIdOfThe01LayoutMatchesAnyContent() {
        List<String> legacy = List.of("T-1");
        Ticket t = ticket("T-1", "whatever");
        assertThat(RecentIds.recall(legacy, t)).isEqualTo(RecentIds.fingerprint(t));
        assertThat(RecentIds.forgotten(legacy, t)).isEmpty();
    }
}
