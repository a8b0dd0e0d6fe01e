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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
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

    private final Setup setup;
    private final Scenario scenario;
    private final Pipeline pipeline;
    private final int inFlight;
    private final String id;
    private final RunProcesses processes;

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
        this.processes = new RunProcesses(setup, scenario, pipeline, inFlight, id);
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
            simulator = processes.startSimulator(port);
            job = processes.startPipeline(port, tickets, results, dlq);
            List<TopicPartition> out = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                out.add(new TopicPartition(results, p));
            }
            out.add(new TopicPartition(dlq, 0));
            try (OutputMeter meter = new OutputMeter(setup.bootstrap(), out, dlq, "m-");
                    KafkaProducer<String, String> producer = producer()) {
                warmUp(producer, tickets, meter, job, label);
                return measure(producer, tickets, meter, job, port, label);
            }
        } finally {
            RunProcesses.stop(job);
            RunProcesses.stop(simulator);
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

    /** The measured part: the load, the outage if the scenario has one, then the summary. */
    private RunResult measure(
            KafkaProducer<String, String> producer,
            String topic,
            OutputMeter meter,
            Process job,
            int port,
            String label)
            throws Exception {
        int count = scenario.ticketsFor(pipeline);
        int sessions = Math.max(1, (int) ((long) scenario.sessions() * count / scenario.tickets()));
        // Ids and keys read before the clock starts: producing a backlog is part of the run.
        List<Load> load =
                Load.of(SampleTickets.generate(count, sessions, 42, "m-", scenario.hotShare()));
        JsonNode statsBefore = SimulatorHttp.stats(port);
        RunSummary.Driven driven;
        try (CpuSampler cpu = new CpuSampler(job)) {
            driven = drive(producer, topic, meter, job, port, label, load);
            // A moment more to catch repeats of tickets already seen.
            Thread.sleep(2000);
            JsonNode statsAfter = SimulatorHttp.stats(port);
            return new RunSummary(scenario, pipeline, inFlight)
                    .summarize(
                            meter.outputs("m-"),
                            driven,
                            count,
                            cpu,
                            statsBefore,
                            statsAfter,
                            processes.restarts());
        }
    }

    /**
     * Sends the load (all at once for a backlog, else at the scenario's rate), starts the outage
     * when it is due, and waits until every ticket is out, the timeout passes or the pipeline is
     * gone.
     */
    private RunSummary.Driven drive(
            KafkaProducer<String, String> producer,
            String topic,
            OutputMeter meter,
            Process job,
            int port,
            String label,
            List<Load> load)
            throws Exception {
        int count = load.size();
        Map<String, Long> sentAt = new HashMap<>(count * 2);
        long start = System.currentTimeMillis();
        long outageEnd = -1;
        long lastProgress = start;
        int sent = 0;
        long timeoutAt = start + scenario.timeoutSeconds() * 1000L;
        while (true) {
            long now = System.currentTimeMillis();
            int due =
                    scenario.paced()
                            ? (int) Math.min(count, (now - start) * scenario.ratePerSecond() / 1000)
                            : count;
            for (; sent < due; sent++) {
                Load t = load.get(sent);
                sentAt.put(t.ticketId(), System.currentTimeMillis());
                producer.send(new ProducerRecord<>(topic, t.sessionId(), t.json()));
            }
            if (outageEnd < 0
                    && scenario.outageAtSeconds() >= 0
                    && now - start >= scenario.outageAtSeconds() * 1000L) {
                outageEnd = startOutage(port, label, now);
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
        return new RunSummary.Driven(sentAt, start, System.currentTimeMillis(), outageEnd);
    }

    /** Starts the scenario's outage at the simulator; returns when it ends (epoch ms). */
    private long startOutage(int port, String label, long now) throws Exception {
        SimulatorHttp.post(port, "/admin/outage?seconds=" + scenario.outageSeconds());
        setup.progress().accept(label + ": provider outage for " + scenario.outageSeconds() + " s");
        return now + scenario.outageSeconds() * 1000L;
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
}
