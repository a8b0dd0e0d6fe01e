package dev.triage.tools.cli;

import dev.triage.io.Json;
import dev.triage.tools.data.SampleTickets;
import dev.triage.tools.data.TopicReader;
import dev.triage.tools.simulator.EmbeddingTriager;
import dev.triage.tools.simulator.LocalModelServer;
import dev.triage.tools.simulator.ProviderProfile;
import dev.triage.tools.simulator.RuleBasedTriager;
import dev.triage.tools.verify.OutputVerifier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * The local tools behind {@code bin/triage}: the model server, a ticket producer, a results reader.
 *
 * <p>Over 300 lines because it holds the small picocli subcommands of the CLI as nested classes,
 * each a few options and a call into the tool that does the work.
 */
@Command(
        name = "triage-tools",
        mixinStandardHelpOptions = true,
        subcommands = {
            TriageTools.LlmServer.class,
            TriageTools.Produce.class,
            TriageTools.Results.class,
            TriageTools.Verify.class,
            TriageTools.Scale.class,
            dev.triage.tools.eval.EvalCommand.class,
            dev.triage.tools.bench.BenchCommand.class,
            JobStatus.class,
            SettingsCommand.class,
            ModelStats.class
        })
public final class TriageTools {

    public static void main(String[] args) {
        System.exit(new CommandLine(new TriageTools()).execute(args));
    }

    @Command(name = "llm-server", description = "Run the local OpenAI-compatible model server.")
    static final class LlmServer implements Callable<Integer> {
        @Option(names = "--host", defaultValue = "127.0.0.1")
        String host;

        @Option(names = "--port", defaultValue = "8000")
        int port;

        @Option(
                names = "--profile",
                description =
                        "A provider profile: a shipped one (openai-tier1, azure-openai, vllm,"
                                + " ollama, flaky, outage-30s) or a YAML file. Flags below override"
                                + " it.")
        String profile;

        @Option(names = "--latency-ms", description = "Fixed latency per answer.")
        Long latencyMs;

        @Option(names = "--latency-p99-ms", description = "With --latency-ms as the median.")
        Long latencyP99Ms;

        @Option(names = "--model", defaultValue = "local-triage")
        String model;

        @Option(
                names = "--triager",
                defaultValue = "embeddings",
                description =
                        "embeddings (sentence embeddings + nearest centroids, the default) or rules"
                                + " (keyword rules: deterministic, instant start).")
        String triager;

        @Option(
                names = "--examples",
                description =
                        "CSV with text and label columns: the category examples (default: the"
                                + " shipped ones for billing, technical, account, shipping, other).")
        Path examples;

        @Option(
                names = "--per-class",
                defaultValue = "20",
                description = "Examples per label taken from --examples (0: all).")
        int perClass;

        @Option(names = "--rpm", description = "Requests per minute before 429s (0: no limit).")
        Integer rpm;

        @Option(names = "--tpm", description = "Tokens per minute before 429s (0: no limit).")
        Integer tpm;

        @Option(
                names = "--no-rate-limit-headers",
                description = "429s without Retry-After and x-ratelimit-* headers (vLLM-like).")
        boolean noRateLimitHeaders;

        @Option(
                names = "--server-error-rate",
                description = "Share of requests answered 500/502/503.")
        Double serverErrorRate;

        @Option(
                names = "--fail-permanently",
                description = "Answer every request with 401 or quota (429 insufficient_quota).")
        String permanent;

        @Override
        public Integer call() throws Exception {
            ProviderProfile p =
                    profile == null ? ProviderProfile.NONE : ProviderProfile.load(profile);
            if (latencyMs != null) {
                p = p.withLatency(latencyMs, latencyP99Ms == null ? latencyMs : latencyP99Ms);
            }
            if (rpm != null || tpm != null || noRateLimitHeaders) {
                p =
                        p.withRateLimits(
                                rpm == null ? p.rpm() : rpm,
                                tpm == null ? p.tpm() : tpm,
                                !noRateLimitHeaders && p.rateLimitHeaders());
            }
            if (serverErrorRate != null) {
                p =
                        p.withFaultRates(
                                serverErrorRate,
                                p.timeoutRate(),
                                p.malformedRate(),
                                p.truncatedRate(),
                                p.refusalRate());
            }
            if (permanent != null) {
                p = p.withPermanentFailure(permanent);
            }
            long t0 = System.nanoTime();
            LocalModelServer.Triager answers;
            String modelDescription;
            if (triager.equals("rules")) {
                answers = RuleBasedTriager::triage;
                modelDescription = "keyword rules";
            } else if (triager.equals("embeddings")) {
                EmbeddingTriager embeddings = EmbeddingTriager.load(examples, perClass);
                answers = embeddings::triage;
                modelDescription =
                        "all-MiniLM-L6-v2 embeddings, nearest centroids of "
                                + embeddings.labels()
                                + (examples == null ? " (shipped examples)" : " from " + examples);
            } else {
                throw new CommandLine.ParameterException(
                        new CommandLine(this), "--triager must be embeddings or rules");
            }
            var server =
                    LocalModelServer.start(
                            new LocalModelServer.Options(host, port, model, p, null, answers));
            System.out.printf(
                    "Local model server listening on %s (started in %d ms); model: %s; provider"
                            + " profile: %s%n",
                    server.baseUrl(),
                    (System.nanoTime() - t0) / 1_000_000,
                    modelDescription,
                    p.describe());
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime()
                    .addShutdownHook(
                            new Thread(
                                    () -> {
                                        server.close();
                                        stop.countDown();
                                    }));
            stop.await();
            return 0;
        }
    }

    @Command(name = "produce", description = "Send tickets to Kafka, keyed by session_id.")
    static final class Produce implements Callable<Integer> {
        @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092")
        String bootstrap;

        @Option(names = "--topic", defaultValue = "tickets")
        String topic;

        @Option(
                names = "--sample",
                description = "Generate N sample tickets instead of reading a file.")
        Integer sample;

        @Option(names = "--sessions", description = "Sessions for --sample (default N/4).")
        Integer sessions;

        @Option(names = "--seed", defaultValue = "42")
        long seed;

        @Option(names = "--customers-topic", defaultValue = "customers")
        String customersTopic;

        @Option(
                names = "--no-profiles",
                description = "With --sample: do not send the sample customers' profiles.")
        boolean noProfiles;

        @Option(
                names = "--id-prefix",
                defaultValue = "",
                description = "Prefix for generated session and ticket ids (keeps runs apart).")
        String idPrefix;

        @Parameters(arity = "0..1", paramLabel = "FILE.jsonl", description = "One ticket per line.")
        Path file;

        @Override
        public Integer call() throws Exception {
            List<String> lines;
            if (sample != null) {
                int s = sessions != null ? sessions : Math.max(1, sample / 4);
                lines = SampleTickets.generate(sample, s, seed, idPrefix);
            } else if (file != null) {
                lines = Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList();
            } else {
                System.err.println("Give FILE.jsonl or --sample N");
                return 2;
            }
            Properties props = new Properties();
            props.put("bootstrap.servers", bootstrap);
            props.put("acks", "all");
            props.put("enable.idempotence", "true");
            props.put("linger.ms", "5");
            try (var producer =
                    new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
                if (sample != null && !noProfiles) {
                    int s = sessions != null ? sessions : Math.max(1, sample / 4);
                    var profiles = SampleTickets.profiles(s, seed);
                    for (var p : profiles) {
                        producer.send(
                                new ProducerRecord<>(customersTopic, p.getKey(), p.getValue()));
                    }
                    System.out.println(
                            "Produced "
                                    + profiles.size()
                                    + " customer profiles to "
                                    + customersTopic);
                }
                for (String line : lines) {
                    // The session id as key keeps a session's tickets in one partition, in order.
                    producer.send(new ProducerRecord<>(topic, sessionKey(line), line));
                }
                producer.flush();
            }
            System.out.println("Produced " + lines.size() + " tickets to " + topic);
            return 0;
        }

        static String sessionKey(String line) {
            try {
                JsonNode node = Json.MAPPER.readTree(line);
                JsonNode session = node == null ? null : node.get("session_id");
                return session != null && session.isTextual() ? session.asText() : null;
            } catch (Exception e) {
                return null; // not JSON: the job sends it to the dead-letter topic
            }
        }
    }

    @Command(
            name = "results",
            description = "Print committed records of a topic (read_committed), one JSON per line.")
    static final class Results implements Callable<Integer> {
        @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092")
        String bootstrap;

        @Option(names = "--topic", defaultValue = "triage-results")
        String topic;

        @Option(names = "--follow", description = "Keep printing new records until interrupted.")
        boolean follow;

        @Option(
                names = "--expect",
                description = "Wait until at least N records exist, then exit (0) or time out (1).")
        Integer expect;

        @Option(names = "--timeout-s", defaultValue = "120")
        int timeoutSeconds;

        @Option(names = "--quiet", description = "Print only the count.")
        boolean quiet;

        @Option(
                names = "--id-prefix",
                description = "Only records whose ticket_id or session_id starts with this.")
        String idPrefix;

        @Option(
                names = "--count-by",
                paramLabel = "FIELD",
                description = "Print VALUE COUNT a line, by VALUE, instead of the records.")
        String countBy;

        @Override
        public Integer call() {
            var counts = new java.util.TreeMap<String, Long>();
            try (var reader = new TopicReader(bootstrap, topic)) {
                var end = reader.endOffsets();
                long deadline = System.currentTimeMillis() + timeoutSeconds * 1000L;
                long[] seen = {0};
                while (true) {
                    reader.poll(
                            value -> {
                                if (idPrefix != null && !hasIdPrefix(value, idPrefix)) {
                                    return;
                                }
                                seen[0]++;
                                if (countBy != null) {
                                    counts.merge(field(value, countBy), 1L, Long::sum);
                                } else if (!quiet) {
                                    System.out.println(value);
                                }
                            });
                    System.out.flush();
                    if (follow) {
                        continue;
                    }
                    if (expect != null) {
                        if (seen[0] >= expect) {
                            break;
                        }
                        if (System.currentTimeMillis() > deadline) {
                            System.err.println(
                                    "Timed out: "
                                            + seen[0]
                                            + " of "
                                            + expect
                                            + " records on "
                                            + topic);
                            return 1;
                        }
                    } else if (reader.atEnd(end)) {
                        break;
                    }
                }
                if (countBy != null) {
                    counts.forEach((value, n) -> System.out.println(value + " " + n));
                } else if (quiet) {
                    System.out.println(seen[0]);
                }
                return 0;
            }
        }

        /** Whether a record's ticket_id or session_id starts with {@code prefix}. */
        static boolean hasIdPrefix(String record, String prefix) {
            return field(record, "ticket_id").startsWith(prefix)
                    || field(record, "session_id").startsWith(prefix);
        }

        /** A record's top-level text field; empty when it has none or is not JSON. */
        static String field(String record, String name) {
            try {
                JsonNode node = Json.MAPPER.readTree(record);
                JsonNode value = node == null ? null : node.get(name);
                return value == null || value.isNull() ? "" : value.asText();
            } catch (Exception e) {
                return "";
            }
        }
    }

    @Command(
            name = "verify",
            description =
                    "Check the committed output: exactly one result or dead letter per ticket,"
                            + " per-session order, turns without gaps.")
    static final class Verify implements Callable<Integer> {
        @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092")
        String bootstrap;

        @Option(names = "--results-topic", defaultValue = "triage-results")
        String resultsTopic;

        @Option(names = "--dlq-topic", defaultValue = "triage-dlq")
        String dlqTopic;

        @Option(
                names = "--expect",
                description = "Wait until results + dead letters reach N, and require exactly N.")
        Integer expect;

        @Option(names = "--timeout-s", defaultValue = "300")
        int timeoutSeconds;

        @Override
        public Integer call() throws Exception {
            long deadline = System.currentTimeMillis() + timeoutSeconds * 1000L;
            List<String> results = new ArrayList<>();
            List<String> dead = new ArrayList<>();
            try (var r = new TopicReader(bootstrap, resultsTopic);
                    var d = new TopicReader(bootstrap, dlqTopic)) {
                results.addAll(r.readToEnd());
                dead.addAll(d.readToEnd());
                while (expect != null
                        && results.size() + dead.size() < expect
                        && System.currentTimeMillis() < deadline) {
                    r.poll(results::add);
                    d.poll(dead::add);
                }
                // A little longer, so that duplicates committed late are seen too.
                long grace = System.currentTimeMillis() + 3000;
                while (expect != null && System.currentTimeMillis() < grace) {
                    r.poll(results::add);
                    d.poll(dead::add);
                }
            }
            OutputVerifier.Report report = OutputVerifier.verify(results, dead);
            System.out.println(report.summary());
            boolean countOk = expect == null || results.size() + dead.size() == expect;
            if (!countOk) {
                System.out.println(
                        "Expected exactly "
                                + expect
                                + " records, found "
                                + (results.size() + dead.size()));
            }
            return report.ok() && countOk ? 0 : 1;
        }
    }

    @Command(
            name = "scale",
            description =
                    "Change a running job's parallelism in place through the adaptive scheduler's"
                            + " REST API (PUT /jobs/:jobid/resource-requirements).")
    static final class Scale implements Callable<Integer> {
        @Option(names = "--rest", defaultValue = "http://localhost:8081")
        String rest;

        @Option(names = "--job", required = true)
        String jobId;

        @Option(names = "--parallelism", required = true)
        int parallelism;

        @Override
        public Integer call() throws Exception {
            var http = HttpClient.newHttpClient();
            String url = rest + "/jobs/" + jobId + "/resource-requirements";
            var current =
                    http.send(
                            HttpRequest.newBuilder(URI.create(url)).GET().build(),
                            HttpResponse.BodyHandlers.ofString());
            if (current.statusCode() != 200) {
                System.err.println(
                        "GET "
                                + url
                                + " answered "
                                + current.statusCode()
                                + ": "
                                + current.body()
                                + " (is jobmanager.scheduler: adaptive set?)");
                return 1;
            }
            var requirements = (ObjectNode) Json.MAPPER.readTree(current.body());
            requirements
                    .fields()
                    .forEachRemaining(
                            vertex -> {
                                var bounds = (ObjectNode) vertex.getValue().get("parallelism");
                                bounds.put("lowerBound", 1);
                                bounds.put("upperBound", parallelism);
                            });
            var put =
                    http.send(
                            HttpRequest.newBuilder(URI.create(url))
                                    .header("Content-Type", "application/json")
                                    .PUT(
                                            HttpRequest.BodyPublishers.ofString(
                                                    requirements.toString()))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            if (put.statusCode() / 100 != 2) {
                System.err.println(
                        "PUT " + url + " answered " + put.statusCode() + ": " + put.body());
                return 1;
            }
            System.out.println(
                    "Requested parallelism " + parallelism + " for every vertex of job " + jobId);
            return 0;
        }
    }
}
