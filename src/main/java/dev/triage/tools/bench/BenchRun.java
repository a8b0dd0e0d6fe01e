package dev.triage.tools.bench;

import dev.triage.io.Json;
import dev.triage.tools.data.SampleTickets;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs one pipeline through one scenario: fresh topics, a fresh simulator process, the pipeline in
 * its own JVM, a warm-up, the load, the meter, then everything stopped again.
 */
final class BenchRun {

    /** Where and how to run: shared by every run of one {@code bench} command. */
    record Setup(
            String bootstrap,
            String classpath,
            String sqlClasspath,
            String logConfig,
            Path settingsFile,
            Path logDir,
            int parallelism,
            List<String> pipelineJvmOptions,
            Consumer<String> progress) {}

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Setup setup;
    private final Scenario scenario;
    private final Pipeline pipeline;
    private final int inFlight;
    private final String id;

    BenchRun(Setup setup, Scenario scenario, Pipeline pipeline, int inFlight) {
        this.setup = setup;
        this.scenario = scenario;
        this.pipeline = pipeline;
        this.inFlight = inFlight;
        this.id =
                "bench-"
                        + scenario.name()
                        + "-"
                        + pipeline.id()
                        + "-"
                        + inFlight
                        + "-"
                        + Long.toString(System.currentTimeMillis(), 36);
    }

    RunResult run() throws Exception {
        String tickets = id + "-tickets";
        String results = id + "-results";
        String dlq = id + "-dlq";
        createTopics(tickets, results, dlq);
        int port = freePort();
        String label =
                scenario.name() + "/" + pipeline.id() + (inFlight != 64 ? "@" + inFlight : "");
        Process simulator = null;
        Process job = null;
        try {
            simulator = startSimulator(port);
            job = startPipeline(port, tickets, results, dlq);
            List<TopicPartition> out = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                out.add(new TopicPartition(results, p));
            }
            out.add(new TopicPartition(dlq, 0));
            try (OutputMeter meter = new OutputMeter(setup.bootstrap(), out, dlq, "m-");
                    KafkaProducer<String, String> producer = producer()) {
                warmUp(producer, tickets, meter, job, label);
                return measure(producer, tickets, meter, job, simulator, port, label);
            }
        } finally {
            stop(job);
            stop(simulator);
            deleteTopics(tickets, results, dlq);
        }
    }

    private void warmUp(
            KafkaProducer<String, String> producer,
            String topic,
            OutputMeter meter,
            Process job,
            String label)
            throws Exception {
        // Enough calls to get the JIT compilers of the pipeline and the simulator past their
        // start, which on two cores otherwise eats into the first seconds of the measurement.
        int warmUp =
                Math.min(scenario.warmUpTickets(), Math.max(20, scenario.ticketsFor(pipeline) / 2));
        for (Load t : Load.of(SampleTickets.generate(warmUp, Math.max(1, warmUp / 4), 7, "w-"))) {
            producer.send(new ProducerRecord<>(topic, t.sessionId(), t.json()));
        }
        producer.flush();
        long deadline = System.currentTimeMillis() + 180_000;
        while (meter.distinct("w-") < warmUp) {
            if (!job.isAlive()) {
                throw new IllegalStateException(label + ": the pipeline exited; see its log");
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException(label + ": no warm-up results within 180 s");
            }
            Thread.sleep(100);
        }
    }

    private RunResult measure(
            KafkaProducer<String, String> producer,
            String topic,
            OutputMeter meter,
            Process job,
            Process simulator,
            int port,
            String label)
            throws Exception {
        int count = scenario.ticketsFor(pipeline);
        int sessions = Math.max(1, (int) ((long) scenario.sessions() * count / scenario.tickets()));
        // Ids and keys read before the clock starts: producing a backlog is part of the run.
        List<Load> load =
                Load.of(SampleTickets.generate(count, sessions, 42, "m-", scenario.hotShare()));
        JsonNode statsBefore = stats(port);
        Map<String, Long> sentAt = new HashMap<>(count * 2);
        List<Long> cpuTimes = new ArrayList<>();
        List<Double> cpuValues = new ArrayList<>();
        // CPU samples on a thread of their own: producing a backlog keeps the loop below busy.
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(
                () -> {
                    double cpu = cpuSeconds(job);
                    synchronized (cpuTimes) {
                        cpuTimes.add(System.currentTimeMillis());
                        cpuValues.add(cpu);
                    }
                },
                0,
                100,
                TimeUnit.MILLISECONDS);
        long start = System.currentTimeMillis();
        long outageStart = -1;
        long outageEnd = -1;
        long lastProgress = start;
        int sent = 0;
        long timeoutAt = start + scenario.timeoutSeconds() * 1000L;
        while (true) {
            long now = System.currentTimeMillis();
            // Produce: all at once for a backlog, else what is due by now.
            int due =
                    scenario.paced()
                            ? (int) Math.min(count, (now - start) * scenario.ratePerSecond() / 1000)
                            : count;
            for (; sent < due; sent++) {
                Load t = load.get(sent);
                sentAt.put(t.ticketId(), System.currentTimeMillis());
                producer.send(new ProducerRecord<>(topic, t.sessionId(), t.json()));
            }
            if (outageStart < 0
                    && scenario.outageAtSeconds() >= 0
                    && now - start >= scenario.outageAtSeconds() * 1000L) {
                post(port, "/admin/outage?seconds=" + scenario.outageSeconds());
                outageStart = now;
                outageEnd = now + scenario.outageSeconds() * 1000L;
                setup.progress()
                        .accept(label + ": provider outage for " + scenario.outageSeconds() + " s");
            }
            int done = meter.distinct("m-");
            if (now - lastProgress >= 5000) {
                lastProgress = now;
                setup.progress()
                        .accept(
                                String.format(
                                        "%s: %,d of %,d tickets out after %d s",
                                        label, done, count, (now - start) / 1000));
            }
            if (done >= count || now > timeoutAt || !job.isAlive()) {
                break;
            }
            Thread.sleep(scenario.paced() ? 20 : 200);
        }
        long end = System.currentTimeMillis();
        // A moment more to catch repeats of tickets already seen.
        Thread.sleep(2000);
        sampler.shutdown();
        sampler.awaitTermination(5, TimeUnit.SECONDS);
        JsonNode statsAfter = stats(port);
        List<RunStats.Output> outputs = meter.outputs("m-");
        return summarize(
                outputs,
                sentAt,
                count,
                start,
                end,
                outageEnd,
                cpuTimes,
                cpuValues,
                statsBefore,
                statsAfter);
    }

    private RunResult summarize(
            List<RunStats.Output> outputs,
            Map<String, Long> sentAt,
            int count,
            long start,
            long end,
            long outageEnd,
            List<Long> cpuTimes,
            List<Double> cpuValues,
            JsonNode before,
            JsonNode after) {
        Map<String, RunStats.Output> first = new HashMap<>();
        for (RunStats.Output o : outputs) {
            first.putIfAbsent(o.ticketId(), o);
        }
        int answered = 0;
        int deadLetters = 0;
        List<Long> all = new ArrayList<>();
        List<Long> hot = new ArrayList<>();
        List<Long> others = new ArrayList<>();
        List<Long> appended = new ArrayList<>();
        // SampleTickets puts the hot share into the first session.
        String hotSession = scenario.hotShare() > 0 ? "m-S-00001" : null;
        long lastBeforeOutageEnd = -1;
        for (RunStats.Output o : first.values()) {
            Long sent = sentAt.get(o.ticketId());
            if (sent == null) {
                continue;
            }
            if (o.deadLetter()) {
                deadLetters++;
                continue;
            }
            answered++;
            appended.add(o.appendedAt());
            long latency = o.seenAt() - sent;
            all.add(latency);
            if (hotSession != null && hotSession.equals(o.sessionId())) {
                hot.add(latency);
            } else {
                others.add(latency);
            }
            if (outageEnd > 0 && sent < outageEnd) {
                lastBeforeOutageEnd = Math.max(lastBeforeOutageEnd, o.seenAt());
            }
        }
        long[] latencies = RunStats.sorted(toArray(all));
        long[] appendTimes = RunStats.sorted(toArray(appended));
        double throughput = RunStats.steadyThroughput(appendTimes);
        long[] window = RunStats.steadyWindow(appendTimes);
        double cpuPer1000 = Double.NaN;
        if (window != null) {
            long[] times = toArray(cpuTimes);
            double[] values = cpuValues.stream().mapToDouble(Double::doubleValue).toArray();
            double cpu =
                    RunStats.interpolate(times, values, window[1])
                            - RunStats.interpolate(times, values, window[0]);
            double ticketsInWindow = throughput * (window[1] - window[0]) / 1000.0;
            cpuPer1000 = ticketsInWindow > 0 ? cpu / ticketsInWindow * 1000 : Double.NaN;
        }
        long requests = after.path("requests").asLong() - before.path("requests").asLong();
        long limited = after.path("rate_limited").asLong() - before.path("rate_limited").asLong();
        int lost = count - answered - deadLetters;
        double limit = scenario.limitPerSecond();
        int seconds = (int) ((end - start) / 1000) + 3;
        return new RunResult(
                scenario.name(),
                pipeline,
                inFlight,
                count,
                lost == 0,
                (end - start) / 1000.0,
                answered,
                deadLetters,
                lost,
                RunStats.duplicates(outputs),
                RunStats.orderViolations(outputs),
                throughput,
                limit > 0 ? throughput / limit : Double.NaN,
                RunStats.percentile(latencies, 50),
                RunStats.percentile(latencies, 95),
                RunStats.percentile(latencies, 99),
                cpuPer1000,
                (double) requests / count,
                requests,
                limited,
                RunStats.percentile(RunStats.sorted(toArray(hot)), 99),
                RunStats.percentile(RunStats.sorted(toArray(others)), 50),
                RunStats.percentile(RunStats.sorted(toArray(others)), 99),
                outageEnd > 0 && lastBeforeOutageEnd > 0
                        ? Math.max(0, lastBeforeOutageEnd - outageEnd) / 1000.0
                        : Double.NaN,
                restarts(),
                latencies,
                RunStats.perSecond(appendTimes, start, seconds));
    }

    private Process startSimulator(int port) throws Exception {
        List<String> cmd = new ArrayList<>(java(setup.classpath(), "256m"));
        // The stand-in for a remote provider should take as little of the shared CPU as it can:
        // the C1 compiler alone compiles far less than C2 for nearly the same speed here.
        cmd.add(cmd.size() - 2, "-XX:TieredStopAtLevel=1");
        cmd.add("dev.triage.tools.cli.TriageTools");
        cmd.add("llm-server");
        cmd.add("--port");
        cmd.add(String.valueOf(port));
        cmd.add("--triager");
        cmd.add("rules");
        cmd.addAll(scenario.simulator());
        Process p = start(cmd, setup.logDir().resolve(id + "-llm-server.log"));
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            try {
                if (get(port, "/health").statusCode() == 200) {
                    return p;
                }
            } catch (IOException e) {
                // not up yet
            }
            if (!p.isAlive() || System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("the model server did not start; see its log");
            }
            Thread.sleep(100);
        }
    }

    private Process startPipeline(int port, String tickets, String results, String dlq)
            throws IOException {
        String cp =
                pipeline == Pipeline.SQL_ML_PREDICT
                        ? setup.classpath() + java.io.File.pathSeparator + setup.sqlClasspath()
                        : setup.classpath();
        List<String> cmd = new ArrayList<>(java(cp, "1g"));
        cmd.addAll(1, setup.pipelineJvmOptions());
        cmd.add(BenchPipelineMain.class.getName());
        cmd.add(pipeline.id());
        cmd.add(String.valueOf(setup.parallelism()));
        cmd.add(setup.settingsFile().toString());
        cmd.add("kafka.bootstrap-servers=" + setup.bootstrap());
        cmd.add("kafka.group-id=" + id);
        cmd.add("kafka.topics.tickets=" + tickets);
        cmd.add("kafka.topics.results=" + results);
        cmd.add("kafka.topics.dlq=" + dlq);
        cmd.add("kafka.transactional-id-prefix=" + id);
        cmd.add("llm.base-url=http://127.0.0.1:" + port + "/v1");
        cmd.add("customers.enabled=false");
        cmd.add("session.max-in-flight=" + inFlight);
        cmd.addAll(scenario.jobSettings());
        return start(cmd, pipelineLog());
    }

    private Path pipelineLog() {
        return setup.logDir().resolve(id + ".log");
    }

    /** Failovers of a Flink pipeline, counted in its log. */
    private int restarts() {
        try {
            return (int)
                    Files.readAllLines(pipelineLog()).stream()
                            .filter(l -> l.contains("to RESTARTING"))
                            .count();
        } catch (IOException e) {
            return 0;
        }
    }

    private List<String> java(String classpath, String heap) {
        return List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap,
                "-Dlog4j2.configurationFile=" + setup.logConfig(),
                "-cp",
                classpath);
    }

    private static Process start(List<String> cmd, Path log) throws IOException {
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    private static void stop(Process p) throws InterruptedException {
        if (p == null) {
            return;
        }
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static double cpuSeconds(Process p) {
        return p.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
    }

    private KafkaProducer<String, String> producer() {
        Properties props = new Properties();
        props.put("bootstrap.servers", setup.bootstrap());
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        props.put("linger.ms", "5");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private void createTopics(String tickets, String results, String dlq) throws Exception {
        Map<String, String> appendTime = Map.of("message.timestamp.type", "LogAppendTime");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", setup.bootstrap()))) {
            admin.createTopics(
                            List.of(
                                    new NewTopic(tickets, 4, (short) 1),
                                    new NewTopic(results, 4, (short) 1).configs(appendTime),
                                    new NewTopic(dlq, 1, (short) 1).configs(appendTime)))
                    .all()
                    .get(60, TimeUnit.SECONDS);
        }
    }

    private void deleteTopics(String... topics) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", setup.bootstrap()))) {
            admin.deleteTopics(List.of(topics)).all().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            setup.progress().accept("could not delete " + List.of(topics) + ": " + e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void post(int port, String path) throws Exception {
        HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.discarding());
    }

    private static JsonNode stats(int port) throws Exception {
        return Json.MAPPER.readTree(get(port, "/stats").body());
    }

    /** A generated ticket with the two fields the run needs, read once. */
    private record Load(String ticketId, String sessionId, String json) {

        static List<Load> of(List<String> tickets) {
            List<Load> out = new ArrayList<>(tickets.size());
            for (String t : tickets) {
                try {
                    JsonNode node = Json.MAPPER.readTree(t);
                    out.add(
                            new Load(
                                    node.path("ticket_id").asText(),
                                    node.path("session_id").asText(),
                                    t));
                } catch (IOException e) {
                    throw new IllegalArgumentException(e);
                }
            }
            return out;
        }
    }

    private static long[] toArray(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).toArray();
    }
}
