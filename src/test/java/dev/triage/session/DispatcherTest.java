package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.session.OutcomePolicy.RepairNote;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The dispatcher without a harness, the way Flink tests its StreamElementQueue. */
class DispatcherTest {

    private final Dispatcher d = new Dispatcher();

    private List<String> drain() {
        List<String> out = new ArrayList<>();
        for (String s = d.pollReady(); s != null; s = d.pollReady()) {
            out.add(s);
        }
        return out;
    }

    @Test
    void readySessionsLeaveInArrivalOrderEachAtMostOnce() {
        d.markReady("a");
        d.markReady("b");
        d.markReady("a");
        d.markReady("c");
        assertThat(d.readyCount()).isEqualTo(3);
        assertThat(drain()).containsExactly("a", "b", "c");
        assertThat(d.hasReady()).isFalse();
        assertThat(d.pollReady()).isNull();
    }

    @Test
    void aSessionPolledOutMayBeReadyAgain() {
        d.markReady("a");
        assertThat(d.pollReady()).isEqualTo("a");
        d.markReady("a"); // a cache hit starts its next ticket
        assertThat(drain()).containsExactly("a");
    }

    @Test
    void aSessionThatMustWaitKeepsItsPlaceAtTheFront() {
        d.markReady("a");
        d.markReady("b");
        String first = d.pollReady();
        d.keepPlace(first);
        d.keepPlace(first); // at most once
        assertThat(drain()).containsExactly("a", "b");
    }

    @Test
    void parkedSessionsReturnToTheFrontInTheirOrder() {
        d.markReady("x");
        d.park("a");
        d.park("b");
        assertThat(d.hasParked()).isTrue();
        assertThat(d.idle()).isFalse();
        d.unpark();
        assertThat(d.hasParked()).isFalse();
        assertThat(drain()).containsExactly("a", "b", "x");
    }

    @Test
    void onlyTheLatestRetryOfASessionFires() {
        d.retryAt("a", 100);
        d.retryAt("a", 200); // re-scheduled
        assertThat(d.retries()).containsExactly(Map.entry("a", 200L));
        assertThat(d.retryFired("a", 100)).isFalse();
        assertThat(d.idle()).isFalse();
        assertThat(d.retryFired("a", 200)).isTrue();
        assertThat(d.retryFired("a", 200)).as("fires once").isFalse();
        assertThat(d.idle()).isTrue();
    }

    @Test
    void aWakeUpIsNeededOnlyWhenNoEarlierOneIsDue() {
        assertThat(d.wakeUpNeeded(500)).isTrue();
        assertThat(d.wakeUpNeeded(600)).as("500 comes first").isFalse();
        assertThat(d.wakeUpNeeded(500)).isFalse();
        assertThat(d.wakeUpNeeded(400)).as("earlier").isTrue();
        d.wokeUp(500); // the superseded one fires: the one at 400 stays due
        assertThat(d.wakeUpNeeded(450)).isFalse();
        d.wokeUp(400);
        assertThat(d.wakeUpNeeded(450)).isTrue();
        assertThat(d.takeWakeUp()).isEqualTo(450);
        assertThat(d.takeWakeUp()).isZero();
    }

    @Test
    void theBacklogCountsAcceptedTicketsNotOnTheWire() {
        d.accepted();
        d.accepted();
        d.accepted();
        assertThat(d.pending()).isEqualTo(3);
        assertThat(d.overBacklog(0, 2)).isTrue();
        assertThat(d.overBacklog(1, 2)).as("one is on the wire").isFalse();
        d.ended();
        assertThat(d.overBacklog(0, 2)).isFalse();
        d.restored(7);
        assertThat(d.pending()).isEqualTo(7);
    }

    @Test
    void whatTheNextCallNeedsEndsWithTheTicket() {
        d.fallbackOnly("a");
        d.repair("a", new RepairNote("T-1", "{", "not JSON"));
        assertThat(d.isFallbackOnly("a")).isTrue();
        assertThat(d.isFallbackOnly("b")).isFalse();
        assertThat(d.repair("a").problem()).isEqualTo("not JSON");
        d.ticketEnded("a");
        assertThat(d.isFallbackOnly("a")).isFalse();
        assertThat(d.repair("a")).isNull();
    }
}
