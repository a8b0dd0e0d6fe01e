package dev.triage.tools.cli;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code bin/triage status}: the running triage jobs' live figures from the Flink REST API (the
 * same metrics the web UI shows): state, parallelism, tickets per second in and out, Kafka lag,
 * calls in flight, the adaptive limit, the allowed request rate and the circuit state. With a query
 * option it prints instead exactly one answer bin/triage needs, as plain words, so that no shell
 * script parses the REST API's JSON.
 *
 * <p>Over 300 lines because it reads the Flink REST API for both the human status page and the
 * one-word answers bin/triage asks for; each query is a small method.
 */
@Command(
        name = "job-status",
        description = "Live figures of the running triage jobs, or one query's plain answer.")
public final class JobStatus implements Callable<Integer> {

    private static final String[] CIRCUIT = {"closed", "probing", "OPEN"};

    /** States of a job that is not finished: it holds slots and its name is taken. */
    static final Set<String> ACTIVE = Set.of("RUNNING", "CREATED", "INITIALIZING", "RESTARTING");

    @Option(names = "--rest", defaultValue = "http://localhost:8081")
    String rest;

    @Option(names = "--name", description = "The job's name, for the job queries.")
    String name;

    @Option(
            names = "--job",
            paramLabel = "JOBID",
            description = "The job, for --latest-checkpoint-time.")
    String jobId;

    @ArgGroup(exclusive = true)
    Query query;

    /** One question bin/triage asks; each prints plain words (or sets the exit code). */
    static final class Query {
        @Option(names = "--jobs", description = "Every job: jid:ID name:NAME state:STATE a line.")
        boolean jobs;

        @Option(
                names = "--running-job-id",
                description = "The id of the job --name that is not finished (none: nothing).")
        boolean runningJobId;

        @Option(names = "--count-running", description = "How many jobs --name are not finished.")
        boolean countRunning;

        @Option(
                names = "--is-running",
                description = "Exit 0 when a job --name is RUNNING, 1 otherwise; prints nothing.")
        boolean isRunning;

        @Option(
                names = "--latest-checkpoint-time",
                paramLabel = "FIELD",
                description =
                        "trigger_timestamp or latest_ack_timestamp of job --job's latest completed"
                                + " checkpoint, epoch millis (none: 0).")
        String checkpointField;

        @Option(
                names = "--busy-taskmanager",
                description = "A TaskManager with slots in use (its resource id; none: exit 1).")
        boolean busyTaskManager;

        @Option(names = "--taskmanager-ids", description = "The registered TaskManagers' ids.")
        boolean taskManagerIds;

        @Option(names = "--taskmanager-count", description = "How many TaskManagers registered.")
        boolean taskManagerCount;
    }

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    @Override
    public Integer call() throws Exception {
        if (query == null) {
            return liveFigures();
        }
        List<String> lines;
        try {
            lines = answer();
        } catch (IOException e) {
            // Nothing answers: a count is 0, a time is 0, the rest is empty; the exit code is 1.
            System.err.println("job-status: " + rest + " does not answer: " + e.getMessage());
            boolean numeric =
                    query.countRunning || query.taskManagerCount || query.checkpointField != null;
            if (numeric) {
                System.out.println(0);
            }
            return 1;
        }
        if (lines == null) {
            return 1;
        }
        lines.forEach(System.out::println);
        return 0;
    }

    /** The query's lines; null for a negative answer (exit 1). */
    private List<String> answer() throws IOException, InterruptedException {
        if (query.jobs) {
            return jobLines(get("/jobs/overview"));
        }
        if (query.runningJobId) {
            return runningJobId(get("/jobs/overview"), name).stream().toList();
        }
        if (query.countRunning) {
            return List.of(Long.toString(countActive(get("/jobs/overview"), name)));
        }
        if (query.isRunning) {
            return isRunning(get("/jobs/overview"), name) ? List.of() : null;
        }
        if (query.checkpointField != null) {
            if (jobId == null) {
                throw new picocli.CommandLine.ParameterException(
                        new picocli.CommandLine(this), "--latest-checkpoint-time needs --job");
            }
            return List.of(
                    Long.toString(
                            latestCheckpointTime(
                                    get("/jobs/" + jobId + "/checkpoints"),
                                    query.checkpointField)));
        }
        if (query.busyTaskManager) {
            return busyTaskManager(get("/taskmanagers")).map(List::of).orElse(null);
        }
        List<String> ids = taskManagerIds(get("/taskmanagers"));
        return query.taskManagerIds ? ids : List.of(Integer.toString(ids.size()));
    }

    /** Every job of the overview: {@code jid:ID name:NAME state:STATE}, indented. */
    static List<String> jobLines(JsonNode overview) {
        List<String> lines = new ArrayList<>();
        for (JsonNode job : overview.path("jobs")) {
            lines.add(
                    "  jid:"
                            + job.path("jid").asText()
                            + " name:"
                            + job.path("name").asText()
                            + " state:"
                            + job.path("state").asText());
        }
        return lines;
    }

    private static boolean named(JsonNode job, String name) {
        return name == null || job.path("name").asText().equals(name);
    }

    /** The first job called {@code name} (any, when null) that is not finished. */
    static Optional<String> runningJobId(JsonNode overview, String name) {
        for (JsonNode job : overview.path("jobs")) {
            if (named(job, name) && ACTIVE.contains(job.path("state").asText())) {
                return Optional.of(job.path("jid").asText());
            }
        }
        return Optional.empty();
    }

    /** How many jobs called {@code name} (any, when null) are not finished. */
    static long countActive(JsonNode overview, String name) {
        long n = 0;
        for (JsonNode job : overview.path("jobs")) {
            if (named(job, name) && ACTIVE.contains(job.path("state").asText())) {
                n++;
            }
        }
        return n;
    }

    /** Whether a job called {@code name} (any, when null) is RUNNING. */
    static boolean isRunning(JsonNode overview, String name) {
        for (JsonNode job : overview.path("jobs")) {
            if (named(job, name) && job.path("state").asText().equals("RUNNING")) {
                return true;
            }
        }
        return false;
    }

    /** A field of the latest completed checkpoint ({@code latest.completed}); 0 when none. */
    static long latestCheckpointTime(JsonNode checkpoints, String field) {
        return checkpoints.path("latest").path("completed").path(field).asLong(0);
    }

    /** The first TaskManager with fewer free slots than slots: it runs tasks. */
    static Optional<String> busyTaskManager(JsonNode taskManagers) {
        for (JsonNode tm : taskManagers.path("taskmanagers")) {
            if (tm.path("freeSlots").asInt() < tm.path("slotsNumber").asInt()) {
                return Optional.of(tm.path("id").asText());
            }
        }
        return Optional.empty();
    }

    /** The registered TaskManagers' resource ids (a killed one stays until its heartbeat ends). */
    static List<String> taskManagerIds(JsonNode taskManagers) {
        List<String> ids = new ArrayList<>();
        for (JsonNode tm : taskManagers.path("taskmanagers")) {
            ids.add(tm.path("id").asText());
        }
        return ids;
    }

    private int liveFigures() throws Exception {
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

    private JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> response =
                http.send(
                        HttpRequest.newBuilder(URI.create(rest + path))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("GET " + path + " answered " + response.statusCode());
        }
        return Json.MAPPER.readTree(response.body());
    }
}
