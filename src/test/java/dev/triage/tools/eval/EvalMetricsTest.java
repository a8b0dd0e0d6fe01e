package dev.triage.tools.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

import java.util.List;

class EvalMetricsTest {

    @Test
    void matchesAHandComputation() {
        EvalMetrics m = new EvalMetrics(List.of("a", "b", "c"));
        m.add("a", "a");
        m.add("a", "a");
        m.add("a", "b");
        m.add("b", "b");
        m.add("b", null); // no answer: wrong, in the (none) column
        m.add("c", "a");
        m.add("c", "c");
        // confusion: a [2 1 0 | 0], b [0 1 0 | 1], c [1 0 1 | 0]
        assertThat(m.count(1, 3)).isEqualTo(1);
        assertThat(m.accuracy()).isCloseTo(4 / 7.0, within(1e-9));
        assertThat(m.precision(0)).isCloseTo(2 / 3.0, within(1e-9)); // 2 of 3 predicted a
        assertThat(m.recall(0)).isCloseTo(2 / 3.0, within(1e-9));
        assertThat(m.precision(1)).isCloseTo(0.5, within(1e-9));
        assertThat(m.recall(1)).isCloseTo(0.5, within(1e-9));
        assertThat(m.precision(2)).isCloseTo(1.0, within(1e-9));
        assertThat(m.recall(2)).isCloseTo(0.5, within(1e-9));
        assertThat(m.f1(2)).isCloseTo(2 / 3.0, within(1e-9));
        assertThat(m.macroF1()).isCloseTo((2 / 3.0 + 0.5 + 2 / 3.0) / 3, within(1e-9));
        assertThat(m.toJson().at("/confusion/rows/1").toString()).isEqualTo("[0,1,0,1]");
        assertThat(m.toJson().get("macro_f1").asDouble()).isEqualTo(0.6111);
        assertThat(m.confusionMarkdown()).contains("| b | 0 | 1 | 0 | 1 |");
    }

    @Test
    void percentilesAreNearestRank() {
        List<Long> ms = List.of(10L, 20L, 30L, 40L, 50L, 60L, 70L, 80L, 90L, 100L);
        assertThat(EvalReport.percentile(ms, 50)).isEqualTo(50);
        assertThat(EvalReport.percentile(ms, 95)).isEqualTo(100);
        assertThat(EvalReport.percentile(List.of(), 50)).isZero();
    }
}
