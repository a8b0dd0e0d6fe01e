package dev.triage.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.triage.config.JobSettings;
import dev.triage.config.TriageOptions;
import dev.triage.io.Json;
import dev.triage.testing.CapturedLogs;
import dev.triage.testing.EmbeddedKafka;
import dev.triage.testing.MiniClusters;
import dev.triage.testing.TestCertificates;
import dev.triage.tools.simulator.LocalModelServer;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.tools.AclCommand;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap.SimpleEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The job against a broker that only lets it in with TLS and SASL/SCRAM-SHA-512 and only grants it
 * the ACLs docs/security.md lists: the job's settings carry nothing but {@code kafka.properties.*},
 * the password comes from a Kafka file config provider, and it appears in no log line, no record
 * and not in the settings file. A wrong password, a client that does not trust the broker's CA, and
 * a client without TLS are refused.
 */
class SecureBrokerITCase {

    static final String USER = "triage";

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.rocksDb(1);

    @TempDir static Path dir;

    private static EmbeddedKafka kafka;
    private static LocalModelServer model;
    private static String password;
    private static final Queue<JsonNode> requests = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void startSecureBroker() throws Exception {
        kafka = EmbeddedKafka.startSecure(dir.resolve("tls"));
        kafka.createTopic("tickets", 2);
        kafka.createTopic("triage-results", 2);
        kafka.createTopic("triage-dlq", 1);
        kafka.createTopic("customers", 1);
        password = TestCertificates.randomSecret();
        kafka.createScramUser(USER, password);
        for (String acl : jobAcls("User:" + USER)) {
            kafkaAcls(acl);
        }
        model =
                LocalModelServer.start(
                        LocalModelServer.Options.onPort(0).withRequestListener(requests::add));
    }

    @AfterAll
    static void stopSecureBroker() throws Exception {
        if (model != null) {
            model.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    /**
     * The ACLs docs/security.md tells an operator to grant the job's user (job defaults for the
     * topics, kafka.group-id and kafka.transactional-id-prefix), as kafka-acls.sh arguments.
     */
    static List<String> jobAcls(String principal) {
        String grant = "--add --allow-principal " + principal + " ";
        return List.of(
                grant + "--operation Read --topic tickets --topic customers --topic triage-results",
                grant + "--operation Write --topic triage-results --topic triage-dlq",
                grant + "--operation Read --resource-pattern-type prefixed --group support-triage",
                grant
                        + "--operation Write --resource-pattern-type prefixed"
                        + " --transactional-id support-triage",
                grant + "--operation DescribeConfigs --cluster");
    }

    @Test
    void pipelineRunsOverSaslSslWithThePasswordFromAConfigProviderAndLeaksItNowhere(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        Path secret = writeSecret("job-secret.properties", password);
        Path settingsFile = writeSettings("secure.yaml", secret);
        assertThat(Files.readString(settingsFile)).doesNotContain(password);

        List<String> results;
        List<String> deadLetters;
        List<String> logLines;
        JsonNode failovers;
        try (CapturedLogs logs =
                CapturedLogs.start(
                        Map.of(
                                "org.apache.kafka", Level.INFO,
                                "org.apache.kafka.clients", Level.DEBUG,
                                "org.apache.kafka.common.security", Level.DEBUG,
                                "org.apache.flink", Level.INFO))) {
            Configuration settings = JobSettings.fromArgs(new String[] {settingsFile.toString()});
            // The submission check's admin client is the first to log in.
            KafkaConnectors.checkBeforeSubmission(settings);

            kafka.produce(
                    "customers",
                    List.of(
                            entry(
                                    "C-ADA",
                                    "{\"customer_id\":\"C-ADA\",\"name\":\"Ada Secure\","
                                            + "\"tier\":\"gold\"}")));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.enableCheckpointing(500);
            TriageJob.build(env, settings);
            JobClient job = env.executeAsync("secure-broker-it");
            FailoverITCase.waitUntilRunning(job);

            // Each turn compressed by its producer with another codec: the job's consumers
            // decompress them all with the codec libraries the job jar ships.
            List<String> codecs = List.of("zstd", "lz4", "snappy");
            for (int k = 1; k <= 3; k++) {
                List<Map.Entry<String, byte[]>> turn = new ArrayList<>();
                for (String session : List.of("S-1", "S-2", "S-3", "S-4")) {
                    turn.add(ticket(session, session + "-T" + k, k));
                }
                kafka.produce("tickets", turn, Map.of("compression.type", codecs.get(k - 1)));
            }
            kafka.produce("tickets", List.of(entry("S-BAD", "not json")));

            results = kafka.readCommitted("triage-results", 12, Duration.ofSeconds(60));
            deadLetters = kafka.readCommitted("triage-dlq", 1, Duration.ofSeconds(10));
            // Exactly-once output survives failovers, so it cannot tell a missing ACL (each
            // denial fails a task over) from none: the exception history can.
            failovers = exceptionHistory(cluster.getRestAddress().get(), job);
            job.cancel().get(30, TimeUnit.SECONDS);
            logLines = logs.lines();
        }

        assertThat(failovers).as("failovers").isEmpty();
        assertThat(logLines).noneMatch(l -> l.contains("AuthorizationException"));
        // Exactly once, through the transactional sinks on the SASL_SSL listener.
        Map<String, JsonNode> byTicket = new HashMap<>();
        for (String r : results) {
            JsonNode node = Json.MAPPER.readTree(r);
            byTicket.put(node.get("ticket_id").asText(), node);
        }
        assertThat(results).hasSize(12);
        assertThat(byTicket).hasSize(12);
        assertThat(byTicket.get("S-1-T1").get("turn").asInt()).isEqualTo(1);
        assertThat(byTicket.get("S-1-T3").get("turn").asInt()).isEqualTo(3);
        assertThat(deadLetters).hasSize(1);
        assertThat(Json.MAPPER.readTree(deadLetters.get(0)).get("reason").asText())
                .isEqualTo("invalid_json");
        // The customers topic was read over the same listener: the profile reached the prompt.
        assertThat(requests.stream().map(JsonNode::toString).filter(r -> r.contains("Ada Secure")))
                .isNotEmpty();

        // The capture saw the clients' configuration dumps (producer, consumer and admin), with
        // the JAAS line hidden, and the password in no line at all.
        for (String client : List.of("ProducerConfig", "ConsumerConfig", "AdminClientConfig")) {
            assertThat(logLines)
                    .as(client + " values logged")
                    .anyMatch(l -> l.contains(client + " values"));
        }
        assertThat(logLines).anyMatch(l -> l.contains("sasl.jaas.config = [hidden]"));
        assertThat(logLines).anyMatch(l -> l.contains("security.protocol = SASL_SSL"));
        assertThat(logLines.size()).isGreaterThan(100);
        assertThat(logLines.stream().filter(l -> l.contains(password))).isEmpty();
        assertThat(results).noneMatch(r -> r.contains(password));
        assertThat(deadLetters).noneMatch(r -> r.contains(password));
        assertThat(requests.stream().map(JsonNode::toString)).noneMatch(r -> r.contains(password));
    }

    @Test
    void wrongPasswordFailsTheSubmissionCheckWithAnAuthenticationError() throws Exception {
        Path wrong = writeSecret("wrong-secret.properties", TestCertificates.randomSecret());
        Configuration settings =
                JobSettings.fromArgs(new String[] {writeSettings("wrong.yaml", wrong).toString()});

        assertThatThrownBy(() -> KafkaConnectors.checkBeforeSubmission(settings))
                .hasRootCauseInstanceOf(SaslAuthenticationException.class)
                .rootCause()
                .hasMessageContaining("invalid credentials")
                .hasMessageContaining("SCRAM-SHA-512");
    }

    /**
     * jobs/local-secure.yaml with the settings `bin/triage up --secure` adds on the command line
     * (the CA file, the provider's allowed path, the JAAS line with the ${file:...} password), as
     * {@code flink run} hands them to the job: they pass the submission check, whose admin client
     * lists the topics and reads the brokers' configuration as the job's user.
     */
    @Test
    void theLocalSecureSettingsAsBinTriagePassesThemLetTheJobIn() throws Exception {
        Path secret = writeSecret("local-secret.properties", password);
        Path stack = dir.resolve("local-stack.yaml");
        Files.writeString(
                stack,
                "kafka.bootstrap-servers: "
                        + kafka.secureBootstrapServers()
                        + "\nllm.base-url: "
                        + model.baseUrl()
                        + "\n");
        String[] args = {
            "jobs/local-secure.yaml",
            stack.toString(),
            "kafka.properties.ssl.truststore.location=" + kafka.caCertificatePem(),
            "kafka.properties.config.providers.file.param.allowed.paths=" + dir,
            "kafka.properties.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule"
                    + " required username=\""
                    + USER
                    + "\" password=\"${file:"
                    + secret
                    + ":password}\";"
        };
        assertThat(Files.readString(Path.of("jobs/local-secure.yaml"))).doesNotContain(password);
        assertThat(String.join(" ", args)).doesNotContain(password);

        Configuration settings = JobSettings.fromArgs(args);

        assertThat(settings.get(TriageOptions.KAFKA_PROPERTIES))
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512");
        KafkaConnectors.checkBeforeSubmission(settings);
        assertThat(KafkaConnectors.brokerTransactionMaxTimeoutMs(settings))
                .as("DescribeConfigs granted")
                .isPresent();
    }

    @Test
    void clientsWithoutTlsOrWithoutTheCaAreRefused() throws Exception {
        Map<String, Object> secure = new HashMap<>(kafka.secureClientProperties(USER, password));
        secure.put("bootstrap.servers", kafka.secureBootstrapServers());
        secure.put("default.api.timeout.ms", "4000");
        secure.put("request.timeout.ms", "2000");

        Map<String, Object> untrusting = new HashMap<>(secure);
        untrusting.remove("ssl.truststore.type");
        untrusting.remove("ssl.truststore.location"); // the JVM's default CAs only
        assertThat(describeCluster(untrusting))
                .isInstanceOf(SslAuthenticationException.class)
                .hasMessageContaining("SSL handshake failed");

        Map<String, Object> noTls = new HashMap<>(secure);
        noTls.put("security.protocol", "SASL_PLAINTEXT");
        assertThat(describeCluster(noTls)).isInstanceOf(TimeoutException.class);

        // The same properties with TLS are let in: the refusals above are the listener's.
        assertThat(describeCluster(secure)).isNull();
    }

    /** The job's failovers so far, from the cluster's REST API. */
    private static JsonNode exceptionHistory(URI rest, JobClient job) throws Exception {
        HttpResponse<String> response =
                HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(
                                                rest.resolve(
                                                        "/jobs/" + job.getJobID() + "/exceptions"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
        JsonNode entries = Json.MAPPER.readTree(response.body()).at("/exceptionHistory/entries");
        assertThat(entries.isArray()).as("exception history in " + response.body()).isTrue();
        return entries;
    }

    /** What describing the cluster with these client properties failed with, or null. */
    private static Throwable describeCluster(Map<String, Object> props) throws Exception {
        try (Admin admin = Admin.create(props)) {
            admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    /** A Kafka file config provider's file: the job's only copy of the password. */
    private static Path writeSecret(String name, String secret) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, "password=" + secret + "\n");
        return file;
    }

    /** Job settings like jobs/local-secure.yaml, for this broker and the given secret file. */
    private static Path writeSettings(String name, Path secret) throws Exception {
        String yaml =
                String.join(
                        "\n",
                        "kafka.bootstrap-servers: " + kafka.secureBootstrapServers(),
                        "kafka.starting-offsets: earliest",
                        "llm.base-url: " + model.baseUrl(),
                        "job.parallelism: 2",
                        "customers.profile-wait: 5s",
                        "kafka.properties.security.protocol: SASL_SSL",
                        "kafka.properties.sasl.mechanism: SCRAM-SHA-512",
                        "kafka.properties.ssl.truststore.type: PEM",
                        "kafka.properties.ssl.truststore.location: " + kafka.caCertificatePem(),
                        "kafka.properties.config.providers: file",
                        "kafka.properties.config.providers.file.class:"
                                + " org.apache.kafka.common.config.provider.FileConfigProvider",
                        "kafka.properties.sasl.jaas.config: >-",
                        "  org.apache.kafka.common.security.scram.ScramLoginModule required",
                        "  username=\"" + USER + "\"",
                        "  password=\"${file:" + secret + ":password}\";",
                        "");
        Path file = dir.resolve(name);
        Files.writeString(file, yaml);
        return file;
    }

    /** Runs kafka-acls.sh (its main class) against the broker's super-user listener. */
    private static void kafkaAcls(String args) {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", kafka.bootstrapServers()));
        all.addAll(List.of(args.split(" ")));
        Exit.setExitProcedure(
                (code, message) -> {
                    throw new IllegalStateException("kafka-acls " + args + " exited " + code);
                });
        try {
            AclCommand.main(all.toArray(String[]::new));
        } finally {
            Exit.resetExitProcedure();
        }
    }

    private static SimpleEntry<String, byte[]> ticket(String session, String id, int k) {
        var node = Json.object();
        node.put("ticket_id", id);
        node.put("session_id", session);
        if (session.equals("S-1")) {
            node.put("customer_id", "C-ADA");
        }
        node.put("body", "Message " + k + " of " + session + ": where is my order? Please help.");
        return entry(session, node.toString());
    }

    private static SimpleEntry<String, byte[]> entry(String key, String value) {
        return new SimpleEntry<>(key, value.getBytes(StandardCharsets.UTF_8));
    }
}
