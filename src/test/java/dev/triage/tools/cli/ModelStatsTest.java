package dev.triage.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.List;

/** The model server's counters as plain numbers, from a recorded {@code GET /stats} body. */
class ModelStatsTest {

    private static final String STATS =
            "{\"profile\":\"none\",\"requests\":120,\"completions\":101,\"errors\":3,"
                    + "\"throttled\":12,\"dropped\":4}";

    @Test
    void countersInTheOrderAskedAndZeroForOneItDoesNotKeep() throws Exception {
        assertThat(ModelStats.values(STATS, List.of("completions", "requests", "timeouts")))
                .containsExactly(101L, 120L, 0L);
    }
}
