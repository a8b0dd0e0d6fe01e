package dev.triage.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What {@code results --id-prefix} and {@code --count-by} read from a record. */
class ResultsFilterTest {

    private static final String DEAD_LETTER =
            "{\"reason\":\"llm_unavailable\",\"ticket_id\":\"CHAOS-4-17-1a-t9\","
                    + "\"session_id\":\"CHAOS-4-17-1a-s2\",\"payload\":\"{}\"}";

    @Test
    void aRecordMatchesByItsTicketOrSessionId() {
        assertThat(TriageTools.Results.hasIdPrefix(DEAD_LETTER, "CHAOS-4-17-")).isTrue();
        String bySession = "{\"ticket_id\":null,\"session_id\":\"SMOKE\"}";
        assertThat(TriageTools.Results.hasIdPrefix(bySession, "SMOKE")).isTrue();
        assertThat(TriageTools.Results.hasIdPrefix(DEAD_LETTER, "AGAIN-")).isFalse();
    }

    @Test
    void aFieldIsEmptyWhenMissingOrNotJson() {
        assertThat(TriageTools.Results.field(DEAD_LETTER, "reason")).isEqualTo("llm_unavailable");
        assertThat(TriageTools.Results.field(DEAD_LETTER, "detail")).isEmpty();
        assertThat(TriageTools.Results.field("not json", "reason")).isEmpty();
    }
}
