package dev.triage.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Grafana dashboard and the alert rules name only metrics the job registers (or Flink and the
 * Kafka connector do): a renamed metric must not leave an empty panel or a silent alert.
 */
class MonitoringFilesTest {

    private static final Pattern USED =
            Pattern.compile("flink_taskmanager_job_task_operator_(\\w+)");
    private static final Pattern REGISTERED =
            Pattern.compile("\\.(?:counter|gauge|histogram)\\(\\s*\"(\\w+)\"");
    private static final Pattern LABELLED =
            Pattern.compile(
                    "labelled\\(\"(\\w+)\", [^,]+, \"(\\w+)\"\\)|addGroup\\(\"(\\w+)\", \\w+\\)\\s*\\.counter\\(\"(\\w+)\"\\)");

    /** Metrics of Flink itself and of the Kafka source that the files use. */
    private static final Set<String> FROM_FLINK = Set.of("numRecordsOut", "pendingRecords");

    @Test
    void theDashboardAndTheAlertsUseRegisteredMetrics() throws Exception {
        Set<String> registered = registeredMetrics();
        assertThat(registered).contains("llmCalls", "circuitState", "category_results");

        JsonNode dashboard =
                Json.MAPPER.readTree(Path.of("flink-conf/grafana/support-triage.json").toFile());
        assertThat(dashboard.get("panels")).hasSizeGreaterThanOrEqualTo(10);
        StringBuilder exprs = new StringBuilder();
        for (JsonNode panel : dashboard.get("panels")) {
            assertThat(panel.get("targets")).as(panel.get("title").asText()).isNotEmpty();
            panel.get("targets").forEach(t -> exprs.append(t.get("expr").asText()).append('\n'));
        }
        exprs.append(Files.readString(Path.of("flink-conf/prometheus/alerts.yml")));

        Set<String> used = new TreeSet<>();
        Matcher m = USED.matcher(exprs);
        while (m.find()) {
            used.add(m.group(1));
        }
        assertThat(used).hasSizeGreaterThanOrEqualTo(20);
        for (String name : used) {
            assertThat(registered.contains(name) || FROM_FLINK.contains(name))
                    .as("metric %s is registered by the job", name)
                    .isTrue();
        }
    }

    private static Set<String> registeredMetrics() throws Exception {
        Set<String> names = new HashSet<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String src = Files.readString(f);
                Matcher r = REGISTERED.matcher(src);
                while (r.find()) {
                    names.add(r.group(1));
                }
                Matcher l = LABELLED.matcher(src);
                while (l.find()) {
                    if (l.group(1) != null) {
                        names.add(l.group(1) + "_" + l.group(2));
                    } else {
                        names.add(l.group(3) + "_" + l.group(4));
                    }
                }
            }
        }
        return names;
    }
}
