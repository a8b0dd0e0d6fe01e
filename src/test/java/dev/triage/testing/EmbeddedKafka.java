package dev.triage.testing;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real single-node Kafka broker (KRaft, combined mode) in this JVM, on a random port.
 *
 * <p>{@link #startSecure} adds a second client listener with TLS and SASL/SCRAM-SHA-512 and turns
 * on ACLs for it: the job connects there, as to a production cluster, while the test's own helpers
 * ({@link #produce}, {@link #readCommitted}, {@link #admin}) and the broker's own inter-broker
 * traffic stay on the plain listener, whose anonymous principal is a super user.
 */
public final class EmbeddedKafka implements AutoCloseable {

    /** The TLS + SASL/SCRAM listener of {@link #startSecure}. */
    public static final String SECURE_LISTENER = "SECURE";

    /** The SASL mechanism of the secure listener. */
    public static final String SCRAM_MECHANISM = "SCRAM-SHA-512";

    private final KafkaClusterTestKit cluster;
    private final TestCertificates certificates;

    private EmbeddedKafka(KafkaClusterTestKit cluster, TestCertificates certificates) {
        this.cluster = cluster;
        this.certificates = certificates;
    }

    public static EmbeddedKafka start() throws Exception {
        TestKitNodes nodes = nodes();
        return started(builder(nodes).build(), null);
    }

    /**
     * A broker that also listens with SASL_SSL ({@link #secureBootstrapServers}): its certificate
     * made by keytool in {@code tlsDir} and signed by a fresh CA ({@link #caCertificatePem}),
     * SCRAM-SHA-512 as the only mechanism (users made with {@link #createScramUser}), and the
     * standard authorizer with no ACLs: a SASL user may do nothing until it is granted.
     */
    public static EmbeddedKafka startSecure(Path tlsDir) throws Exception {
        TestCertificates certs = TestCertificates.create(tlsDir);
        TestKitNodes nodes = nodes();
        String plain = nodes.brokerListenerName().value();
        String controller = nodes.controllerListenerName().value();
        String secure = "listener.name." + SECURE_LISTENER.toLowerCase(Locale.ROOT) + ".";
        KafkaClusterTestKit cluster =
                builder(nodes)
                        // The test kit pre-binds the plain and controller ports; the secure
                        // listener binds its own random port.
                        .setConfigProp(
                                "listeners",
                                plain
                                        + "://localhost:0,"
                                        + controller
                                        + "://localhost:0,"
                                        + SECURE_LISTENER
                                        + "://localhost:0")
                        .setConfigProp(
                                "listener.security.protocol.map",
                                plain
                                        + ":PLAINTEXT,"
                                        + controller
                                        + ":PLAINTEXT,"
                                        + SECURE_LISTENER
                                        + ":SASL_SSL")
                        .setConfigProp("inter.broker.listener.name", plain)
                        .setConfigProp("sasl.enabled.mechanisms", SCRAM_MECHANISM)
                        .setConfigProp(
                                secure
                                        + SCRAM_MECHANISM.toLowerCase(Locale.ROOT)
                                        + ".sasl.jaas.config",
                                "org.apache.kafka.common.security.scram.ScramLoginModule required;")
                        .setConfigProp(secure + "ssl.keystore.type", "PKCS12")
                        .setConfigProp(
                                secure + "ssl.keystore.location", certs.brokerKeyStore.toString())
                        .setConfigProp(
                                secure + "ssl.keystore.password", certs.brokerKeyStorePassword)
                        .setConfigProp(secure + "ssl.key.password", certs.brokerKeyStorePassword)
                        .setConfigProp(
                                "authorizer.class.name",
                                "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
                        .setConfigProp("allow.everyone.if.no.acl.found", "false")
                        // The plain and controller listeners' principal: the broker itself and
                        // the test's helpers.
                        .setConfigProp("super.users", "User:ANONYMOUS")
                        .build();
        return started(cluster, certs);
    }

    private static TestKitNodes nodes() {
        return new TestKitNodes.Builder()
                .setCombined(true)
                .setNumBrokerNodes(1)
                .setNumControllerNodes(1)
                .build();
    }

    private static KafkaClusterTestKit.Builder builder(TestKitNodes nodes) {
        return new KafkaClusterTestKit.Builder(nodes)
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0");
    }

    private static EmbeddedKafka started(KafkaClusterTestKit cluster, TestCertificates certs)
            throws Exception {
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
        return new EmbeddedKafka(cluster, certs);
    }

    /** The plain listener: the test's helpers and, on a secure broker, a super user. */
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** The SASL_SSL listener of a broker made by {@link #startSecure}. */
    public String secureBootstrapServers() {
        requireSecure();
        return cluster.brokers().values().stream()
                .map(b -> "localhost:" + b.boundPort(ListenerName.normalised(SECURE_LISTENER)))
                .collect(Collectors.joining(","));
    }

    /** The CA certificate (PEM) that signed the secure listener's certificate. */
    public Path caCertificatePem() {
        requireSecure();
        return certificates.caCertificatePem;
    }

    /**
     * Creates (or replaces) a SCRAM-SHA-512 user and waits until the broker authenticates it: the
     * credential travels through the metadata log before the broker knows it.
     */
    public void createScramUser(String user, String password) throws Exception {
        requireSecure();
        try (Admin admin = admin()) {
            admin.alterUserScramCredentials(
                            List.of(
                                    new UserScramCredentialUpsertion(
                                            user,
                                            new ScramCredentialInfo(
                                                    ScramMechanism.SCRAM_SHA_512, 4096),
                                            password)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> props = new HashMap<>(secureClientProperties(user, password));
        props.put("bootstrap.servers", secureBootstrapServers());
        props.put("default.api.timeout.ms", "5000");
        props.put("request.timeout.ms", "5000");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try (Admin admin = Admin.create(props)) {
                admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof SaslAuthenticationException)
                        || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100); // waits on the broker's metadata, not on the code under test
            }
        }
    }

    /**
     * Client properties for the secure listener as user and password, with the password inline: for
     * the test's own clients only (the job reads it through a config provider).
     */
    public Map<String, String> secureClientProperties(String user, String password) {
        return Map.of(
                "security.protocol",
                "SASL_SSL",
                "sasl.mechanism",
                SCRAM_MECHANISM,
                "ssl.truststore.type",
                "PEM",
                "ssl.truststore.location",
                caCertificatePem().toString(),
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required"
                        + " username=\""
                        + user
                        + "\" password=\""
                        + password
                        + "\";");
    }

    /** An admin client on the plain listener (a super user on a secure broker). */
    public Admin admin() {
        return Admin.create(Map.of("bootstrap.servers", bootstrapServers()));
    }

    private void requireSecure() {
        if (certificates == null) {
            throw new IllegalStateException("not a secure broker: start it with startSecure");
        }
    }

    public void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        }
    }

    /** Sends records (key may be null) and waits until all are acknowledged. */
    public void produce(String topic, List<Map.Entry<String, byte[]>> records) {
        produce(topic, records, Map.of());
    }

    /** The same with extra producer properties, e.g. {@code compression.type}. */
    public void produce(
            String topic, List<Map.Entry<String, byte[]>> records, Map<String, String> extra) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers());
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        props.put("linger.ms", "5");
        props.putAll(extra);
        try (var producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (var r : records) {
                byte[] key =
                        r.getKey() == null ? null : r.getKey().getBytes(StandardCharsets.UTF_8);
                producer.send(new ProducerRecord<>(topic, key, r.getValue()));
            }
            producer.flush();
        }
    }

    /**
     * Reads the topic from the beginning with isolation level read_committed until {@code expected}
     * records arrived or the timeout passed, then keeps reading briefly to catch any extra
     * (duplicate) records. Returns the values in partition order.
     */
    public List<String> readCommitted(String topic, int expected, Duration timeout) {
        return readCommittedTimed(topic, expected, timeout).values();
    }

    /** What {@link #readCommitted} read, and when the expected count was first reached. */
    public record Read(List<String> values, long reachedAtNanos) {}

    public Read readCommittedTimed(String topic, int expected, Duration timeout) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers());
        props.put("isolation.level", "read_committed");
        props.put("enable.auto.commit", "false");
        List<String> values = new ArrayList<>();
        try (var consumer =
                new KafkaConsumer<>(
                        props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions =
                    consumer.partitionsFor(topic).stream()
                            .map(p -> new TopicPartition(topic, p.partition()))
                            .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            long graceEnd = Long.MAX_VALUE;
            long reachedAt = -1;
            while (System.nanoTime() < Math.min(deadline, graceEnd)) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(new String(r.value(), StandardCharsets.UTF_8));
                }
                if (values.size() >= expected && graceEnd == Long.MAX_VALUE) {
                    reachedAt = System.nanoTime();
                    graceEnd = reachedAt + Duration.ofSeconds(2).toNanos();
                }
            }
            return new Read(values, reachedAt);
        }
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
