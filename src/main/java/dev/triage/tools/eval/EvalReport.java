package dev.triage.tools.eval;

import dev.triage.io.Json;
import dev.triage.tools.eval.EvalRunner.Outcome;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The evaluation's report: {@code report.md}, {@code report.json}, {@code predictions.csv} and
 * {@code confusion.png}, from the outcomes of a run.
 */
public final class EvalReport {

    private EvalReport() {}

    /** What the report sums over the outcomes besides the metrics. */
    private record Totals(
            List<Long> sortedLatencies, long promptTokens, long completionTokens, int errors) {

        static Totals of(List<Outcome> outcomes) {
            List<Long> latencies = new ArrayList<>();
            long prompt = 0;
            long completion = 0;
            int errors = 0;
            for (Outcome o : outcomes) {
                if (o.predicted() != null) {
                    latencies.add(o.latencyMs());
                } else {
                    errors++;
                }
                prompt += o.promptTokens();
                completion += o.completionTokens();
            }
            Collections.sort(latencies);
            return new Totals(latencies, prompt, completion, errors);
        }

        long latency(int p) {
            return percentile(sortedLatencies, p);
        }

        long maxLatency() {
            return sortedLatencies.isEmpty() ? 0 : sortedLatencies.get(sortedLatencies.size() - 1);
        }
    }

    /** Writes report.md, report.json, predictions.csv and confusion.png into {@code dir}. */
    public static EvalMetrics write(
            Path dir,
            String title,
            Map<String, String> setup,
            List<String> labels,
            List<Outcome> outcomes)
            throws IOException {
        Files.createDirectories(dir);
        EvalMetrics m = new EvalMetrics(labels);
        for (Outcome o : outcomes) {
            m.add(o.testCase().label(), o.predicted());
        }
        Totals totals = Totals.of(outcomes);
        writeJson(dir.resolve("report.json"), m, setup, totals);
        writePredictions(dir.resolve("predictions.csv"), outcomes);
        Heatmap.write(m, title, dir.resolve("confusion.png"));
        Files.writeString(dir.resolve("report.md"), markdown(title, setup, labels, m, totals));
        return m;
    }

    private static void writeJson(
            Path file, EvalMetrics m, Map<String, String> setup, Totals totals) throws IOException {
        ObjectNode json = m.toJson();
        ObjectNode meta = Json.object();
        setup.forEach(meta::put);
        json.set("setup", meta);
        json.put("errors", totals.errors());
        ObjectNode lat = json.putObject("latency_ms");
        lat.put("p50", totals.latency(50));
        lat.put("p95", totals.latency(95));
        lat.put("p99", totals.latency(99));
        lat.put("max", totals.maxLatency());
        json.putObject("tokens")
                .put("prompt", totals.promptTokens())
                .put("completion", totals.completionTokens());
        Files.writeString(
                file, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(json));
    }

    private static void writePredictions(Path file, List<Outcome> outcomes) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            CsvMapper csv = new CsvMapper();
            CsvSchema schema =
                    CsvSchema.builder()
                            .addColumn("id")
                            .addColumn("label")
                            .addColumn("predicted")
                            .addColumn("latency_ms")
                            .addColumn("error")
                            .addColumn("text")
                            .build()
                            .withHeader();
            List<List<String>> rows = new ArrayList<>();
            for (Outcome o : outcomes) {
                rows.add(
                        List.of(
                                o.testCase().id(),
                                o.testCase().label(),
                                o.predicted() == null ? "" : o.predicted(),
                                Long.toString(o.latencyMs()),
                                o.error() == null ? "" : o.error(),
                                o.testCase().text()));
            }
            csv.writer(schema).writeValues(w).writeAll(rows);
        }
    }

    private static String markdown(
            String title,
            Map<String, String> setup,
            List<String> labels,
            EvalMetrics m,
            Totals totals) {
        StringBuilder md = new StringBuilder("# ").append(title).append("\n\n");
        setup.forEach((k, v) -> md.append("- ").append(k).append(": ").append(v).append('\n'));
        md.append("\n| metric | value |\n|---|---|\n");
        md.append("| tickets | ").append(m.total()).append(" |\n");
        md.append("| accuracy | ").append(EvalMetrics.pct(m.accuracy())).append(" |\n");
        md.append("| macro-F1 | ").append(EvalMetrics.pct(m.macroF1())).append(" |\n");
        md.append("| no answer (dead letter, error, timeout) | ")
                .append(totals.errors())
                .append(" |\n");
        md.append("| latency p50 / p95 / p99 (ms) | ")
                .append(totals.latency(50))
                .append(" / ")
                .append(totals.latency(95))
                .append(" / ")
                .append(totals.latency(99))
                .append(" |\n");
        md.append("| tokens (prompt / completion) | ")
                .append(totals.promptTokens())
                .append(" / ")
                .append(totals.completionTokens())
                .append(
                        " |\n\n## Per class\n\n| label | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|\n");
        for (int c = 0; c < labels.size(); c++) {
            md.append("| ")
                    .append(labels.get(c))
                    .append(" | ")
                    .append(EvalMetrics.pct(m.precision(c)))
                    .append(" | ")
                    .append(EvalMetrics.pct(m.recall(c)))
                    .append(" | ")
                    .append(EvalMetrics.pct(m.f1(c)))
                    .append(" | ")
                    .append(m.support(c))
                    .append(" |\n");
        }
        md.append("\n## Confusion matrix\n\n![confusion matrix](confusion.png)\n\n")
                .append(m.confusionMarkdown());
        return md.toString();
    }

    /** Nearest-rank percentile; 0 for no values. */
    static long percentile(List<Long> sorted, int p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }
}
