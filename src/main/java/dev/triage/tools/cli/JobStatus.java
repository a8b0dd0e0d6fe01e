package dev.triage.tools.cli;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code bin/triage status}: the running triage jobs' live figures from the Flink REST API (the
 * same metrics the web UI shows): state, parallelism, tickets per second in and out, Kafka lag,
 * calls in flight, the adaptive limit, the allowed request rate and the circuit state.
 */
@Command(name = "job-status", description = "Live figures of the running triage jobs.")
public final class JobStatus implements Callable<Integer> {

    private static final String[] CIRCUIT = {"closed", "probing", "OPEN"};

    @Option(names = "--rest", defaultValue = "http://localhost:8081")
    String rest;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    @Override
    public Integer call() throws Exception {
        JsonNode overview = get("/jobs/overview");
        for (JsonNode job : overview.path("jobs")) {
            if (!job.path("state").asText().equals("RUNNING")) {
                continue;
            }
            String jid = job.get("jid").asText();
            JsonNode detail = get("/jobs/" + jid);
            Map<String, String> vertexByName = new LinkedHashMap<>();
            int parallelism = 0;
            for (JsonNode v : detail.path("vertices")) {
                vertexByName.put(v.get("name").asText(), v.get("id").asText());
                parallelism = Math.max(parallelism, v.path("parallelism").asInt());
            }
            String source = find(vertexByName, "Tickets from Kafka");
            String triage = find(vertexByName, "Triage sessions");
            // The REST API serves metrics from a store the JobManager fills on demand: the first
            // query after a while comes back empty. Ask, then give it a moment.
            for (int i = 0;
                    i < 6 && Double.isNaN(sum(jid, triage, "numRecordsOutPerSecond"));
                    i++) {
                Thread.sleep(500);
            }
            double in = sum(jid, source, "numRecordsOutPerSecond");
            double lag = sum(jid, source, operatorMetric(jid, source, "pendingRecords"));
            double out = sum(jid, triage, "numRecordsOutPerSecond");
            String op = "Triage_sessions_with_the_LLM.";
            double inFlight = sum(jid, triage, op + "callsInFlight");
            double limit = sum(jid, triage, op + "concurrencyLimit");
            double rpm = sum(jid, triage, op + "allowedRequestsPerMinute");
            double circuit = max(jid, triage, op + "circuitState");
            double waiting = sum(jid, triage, op + "sessionsReadyToSend");
            System.out.printf(
                    "  %s (%s): parallelism %d; tickets/s in %.1f, out %.1f; Kafka lag %s;"
                            + " LLM calls in flight %.0f of %.0f; waiting to be sent %.0f;"
                            + " allowed requests/min %s; circuit %s%n",
                    job.get("name").asText(),
                    jid,
                    parallelism,
                    in,
                    out,
                    Double.isNaN(lag) ? "n/a" : String.format("%.0f", lag),
                    inFlight,
                    limit,
                    waiting,
                    rpm < 0 ? "no limit" : String.format("%.0f", rpm),
                    Double.isNaN(circuit)
                            ? "n/a"
                            : CIRCUIT[(int) Math.max(0, Math.min(2, circuit))]);
        }
        return 0;
    }

    /** The vertex whose name contains {@code part} (chained vertices join names with " -> "). */
    private static String find(Map<String, String> vertices, String part) {
        for (var e : vertices.entrySet()) {
            if (e.getKey().contains(part)) {
                return e.getValue();
            }
        }
        return null;
    }

    /** A source operator's metric: the REST API names it {@code <operator>.<metric>}. */
    private String operatorMetric(String jid, String vertex, String metric) throws Exception {
        if (vertex == null) {
            return metric;
        }
        for (JsonNode m : get("/jobs/" + jid + "/vertices/" + vertex + "/subtasks/metrics")) {
            String id = m.path("id").asText();
            if (id.endsWith("." + metric)) {
                return id;
            }
        }
        return metric;
    }

    private double sum(String jid, String vertex, String metric) throws Exception {
        return aggregate(jid, vertex, metric, "sum");
    }

    private double max(String jid, String vertex, String metric) throws Exception {
        return aggregate(jid, vertex, metric, "max");
    }

    private double aggregate(String jid, String vertex, String metric, String agg)
            throws Exception {
        if (vertex == null) {
            return Double.NaN;
        }
        JsonNode values =
                get(
                        "/jobs/"
                                + jid
                                + "/vertices/"
                                + vertex
                                + "/subtasks/metrics?get="
                                + URLEncoder.encode(metric, StandardCharsets.UTF_8)
                                + "&agg="
                                + agg);
        for (JsonNode v : values) {
            if (v.has(agg)) {
                return v.get(agg).asDouble();
            }
        }
        return Double.NaN;
    }

    private JsonNode get(String path) throws Exception {
        HttpResponse<String> response =
                http.send(
                        HttpRequest.newBuilder(URI.create(rest + path))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        return Json.MAPPER.readTree(response.body());
    }
}
