package dev.triage.tools.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The report's files and what they sum over a run's outcomes. */
class EvalReportTest {

    @TempDir Path dir;

    @Test
    void theReportCountsErrorsLatencyAndTokensAndListsEveryPrediction() throws Exception {
        EvalSplit.Case a = new EvalSplit.Case("EVAL-000001", "refund", "billing");
        EvalSplit.Case b = new EvalSplit.Case("EVAL-000002", "parcel", "shipping");
        EvalSplit.Case c = new EvalSplit.Case("EVAL-000003", "late", "shipping");
        List<EvalRunner.Outcome> outcomes =
                List.of(
                        new EvalRunner.Outcome(a, "billing", 30, 100, 20, null),
                        new EvalRunner.Outcome(b, "billing", 10, 100, 20, null),
                        new EvalRunner.Outcome(c, null, 0, 0, 0, "timeout"));

        EvalMetrics m =
                EvalReport.write(
                        dir, "T", Map.of("seed", "7"), List.of("billing", "shipping"), outcomes);

        assertThat(m.total()).isEqualTo(3);
        JsonNode json = Json.MAPPER.readTree(Files.readString(dir.resolve("report.json")));
        assertThat(json.path("errors").asInt()).isEqualTo(1);
        assertThat(json.at("/latency_ms/p50").asLong()).isEqualTo(10);
        assertThat(json.at("/latency_ms/max").asLong()).isEqualTo(30);
        assertThat(json.at("/tokens/prompt").asLong()).isEqualTo(200);
        assertThat(json.at("/setup/seed").asText()).isEqualTo("7");
        assertThat(Files.readAllLines(dir.resolve("predictions.csv")))
                .hasSize(4)
                .contains("EVAL-000003,shipping,,0,timeout,late");
        assertThat(Files.readString(dir.resolve("report.md")))
                .startsWith("# T\n\n- seed: 7\n")
                .contains("| no answer (dead letter, error, timeout) | 1 |")
                .contains("| tokens (prompt / completion) | 200 / 40 |");
        assertThat(dir.resolve("confusion.png")).exists();
    }
}
