package dev.triage.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;
import dev.triage.metrics.MetricNames;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Grafana dashboard and the alert rules name only metrics the job registers (or Flink and the
 * Kafka connector do): a renamed metric must not leave an empty panel or a silent alert. The job's
 * names are {@link MetricNames}' constants, and each of them is used by the job's code.
 */
class MonitoringFilesTest {

    private static final Pattern USED =
            Pattern.compile("flink_taskmanager_job_task_operator_(\\w+)");

    /** Metrics of Flink itself and of the Kafka source that the files use. */
    private static final Set<String> FROM_FLINK = Set.of("numRecordsOut", "pendingRecords");

    @Test
    void theDashboardAndTheAlertsUseRegisteredMetrics() throws Exception {
        Set<String> registered = registeredMetrics().keySet();
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

    /**
     * A constant of {@link MetricNames} is a registered metric only if the job's code uses it: a
     * name declared there and registered nowhere would otherwise pass the test above.
     */
    @Test
    void everyDeclaredMetricIsUsedByTheJob() throws Exception {
        StringBuilder sources = new StringBuilder();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java/dev/triage"))) {
            for (Path f :
                    files.filter(p -> p.toString().endsWith(".java"))
                            .filter(p -> !p.endsWith("MetricNames.java"))
                            .filter(p -> !p.toString().contains("/tools/"))
                            .toList()) {
                sources.append(Files.readString(f)).append('\n');
            }
        }
        for (String constant : registeredMetrics().values()) {
            assertThat(Pattern.compile("\\b" + constant + "\\b").matcher(sources).find())
                    .as("MetricNames.%s is registered by the job's code", constant)
                    .isTrue();
        }
    }

    /** Every metric name MetricNames declares (Prometheus name to constant). */
    private static Map<String, String> registeredMetrics() throws Exception {
        Map<String, String> names = new HashMap<>();
        for (Field f : MetricNames.class.getDeclaredFields()) {
            if (!Modifier.isStatic(f.getModifiers()) || !Modifier.isPublic(f.getModifiers())) {
                continue;
            }
            Object value = f.get(null);
            if (value instanceof String name) {
                names.put(name, f.getName());
            } else if (value instanceof MetricNames.Labelled labelled) {
                names.put(labelled.prometheusName(), f.getName());
            }
        }
        return names;
    }
}
