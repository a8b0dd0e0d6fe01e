package dev.triage.job;

import static dev.triage.config.TriageOptions.*;

import dev.triage.config.StartingOffsets;
import dev.triage.records.CustomerEvent;
import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetterSerializer;
import dev.triage.records.OutcomeDeserializer;
import dev.triage.records.RawCustomer;
import dev.triage.records.RawCustomerDeserializer;
import dev.triage.records.RawTicket;
import dev.triage.records.RawTicketDeserializer;
import dev.triage.records.ResultSignature;
import dev.triage.records.TriageResult;
import dev.triage.records.TriageResultSerializer;

import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.config.ConfigResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Builds the Kafka source and the exactly-once sinks from the job settings. */
public final class KafkaConnectors {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaConnectors.class);

    /** The broker setting that bounds every producer's transaction.timeout.ms. */
    static final String BROKER_TRANSACTION_MAX = "transaction.max.timeout.ms";

    private KafkaConnectors() {}

    public static KafkaSource<RawTicket> ticketSource(ReadableConfig conf) {
        return KafkaSource.<RawTicket>builder()
                .setBootstrapServers(conf.get(KAFKA_BOOTSTRAP_SERVERS))
                .setTopics(conf.get(TICKETS_TOPIC))
                .setGroupId(conf.get(KAFKA_GROUP_ID))
                .setStartingOffsets(startingOffsets(conf.get(STARTING_OFFSETS)))
                .setDeserializer(new RawTicketDeserializer())
                .setProperties(clientProperties(conf))
                // Read only committed tickets when producers write transactionally.
                .setProperty("isolation.level", "read_committed")
                .setProperty("partition.discovery.interval.ms", "60000")
                .build();
    }

    /**
     * Fails the submission with a clear message, before anything runs, for what would otherwise
     * fail the job over again and again at runtime: a topic the job reads or writes that does not
     * exist (a sink's first record to a missing topic fails once auto-creation is off), and a
     * transaction timeout above what the broker allows (the sinks' producers cannot start). When
     * the broker's limit cannot be read (no permission to describe its configuration), a warning
     * says so and the submission goes on.
     */
    public static void checkBeforeSubmission(ReadableConfig conf) throws Exception {
        try (Admin admin = Admin.create(adminProperties(conf))) {
            checkTopicsExist(conf, admin);
            OptionalLong brokerMax = brokerTransactionMaxTimeoutMs(admin);
            if (brokerMax.isEmpty()) {
                LOG.warn(
                        "Could not read transaction.max.timeout.ms of the brokers at {}; make sure"
                                + " it is at least kafka.transaction-timeout ({}).",
                        conf.get(KAFKA_BOOTSTRAP_SERVERS),
                        conf.get(TRANSACTION_TIMEOUT));
                return;
            }
            String problem =
                    transactionTimeoutProblem(conf.get(TRANSACTION_TIMEOUT), brokerMax.getAsLong());
            if (problem != null) {
                throw new IllegalStateException(problem);
            }
        }
    }

    private static void checkTopicsExist(ReadableConfig conf, Admin admin) throws Exception {
        List<String> needed =
                new ArrayList<>(
                        List.of(
                                conf.get(TICKETS_TOPIC),
                                conf.get(RESULTS_TOPIC),
                                conf.get(DLQ_TOPIC)));
        if (conf.get(CUSTOMERS_ENABLED)) {
            needed.add(conf.get(CUSTOMERS_TOPIC));
        }
        Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        List<String> missing =
                needed.stream().distinct().filter(t -> !existing.contains(t)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalStateException(
                    "Kafka topics "
                            + missing
                            + " do not exist on "
                            + conf.get(KAFKA_BOOTSTRAP_SERVERS)
                            + ". The job reads kafka.topics.tickets (and customers.topic) and"
                            + " writes kafka.topics.results and kafka.topics.dlq: create them"
                            + " (the customers topic with cleanup.policy=compact), or set"
                            + " customers.enabled: false to run without customer context.");
        }
    }

    /** The smallest transaction.max.timeout.ms of the brokers at the configured servers. */
    static OptionalLong brokerTransactionMaxTimeoutMs(ReadableConfig conf) throws Exception {
        try (Admin admin = Admin.create(adminProperties(conf))) {
            return brokerTransactionMaxTimeoutMs(admin);
        }
    }

    private static OptionalLong brokerTransactionMaxTimeoutMs(Admin admin) {
        try {
            List<ConfigResource> brokers =
                    admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).stream()
                            .map(n -> new ConfigResource(ConfigResource.Type.BROKER, n.idString()))
                            .toList();
            Map<ConfigResource, Config> configs =
                    admin.describeConfigs(brokers).all().get(30, TimeUnit.SECONDS);
            return configs.values().stream()
                    .map(c -> c.get(BROKER_TRANSACTION_MAX))
                    .filter(e -> e != null && e.value() != null)
                    .mapToLong(e -> Long.parseLong(e.value()))
                    .min();
        } catch (Exception e) {
            LOG.debug("Describing the brokers' configuration failed", e);
            return OptionalLong.empty();
        }
    }

    /** Why the broker would refuse the sinks' transaction timeout, or null when it accepts it. */
    static String transactionTimeoutProblem(Duration timeout, long brokerMaxMs) {
        if (timeout.toMillis() <= brokerMaxMs) {
            return null;
        }
        return "kafka.transaction-timeout is "
                + timeout
                + " ("
                + timeout.toMillis()
                + " ms) but the broker allows at most "
                + BROKER_TRANSACTION_MAX
                + "="
                + brokerMaxMs
                + " ms: the sinks could not start a transaction. Lower kafka.transaction-timeout,"
                + " or raise "
                + BROKER_TRANSACTION_MAX
                + " on the brokers (a restore later than the timeout loses the results of the"
                + " checkpoint before the crash, so keep it above the longest expected downtime).";
    }

    private static Properties adminProperties(ReadableConfig conf) {
        Properties props = clientProperties(conf);
        props.put("bootstrap.servers", conf.get(KAFKA_BOOTSTRAP_SERVERS));
        return props;
    }

    /** The compacted customers topic, always from the beginning: it is a table. */
    public static KafkaSource<RawCustomer> customerSource(ReadableConfig conf) {
        return KafkaSource.<RawCustomer>builder()
                .setBootstrapServers(conf.get(KAFKA_BOOTSTRAP_SERVERS))
                .setTopics(conf.get(CUSTOMERS_TOPIC))
                .setGroupId(conf.get(KAFKA_GROUP_ID) + "-customers")
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(new RawCustomerDeserializer())
                .setProperties(clientProperties(conf))
                .setProperty("isolation.level", "read_committed")
                .build();
    }

    /**
     * The job's own results, read back (committed only) as outcomes for the customers' history. A
     * new job starts at the end: its history begins with its own answers.
     */
    public static KafkaSource<CustomerEvent> outcomeSource(ReadableConfig conf) {
        return KafkaSource.<CustomerEvent>builder()
                .setBootstrapServers(conf.get(KAFKA_BOOTSTRAP_SERVERS))
                .setTopics(conf.get(RESULTS_TOPIC))
                .setGroupId(conf.get(KAFKA_GROUP_ID) + "-history")
                .setStartingOffsets(OffsetsInitializer.latest())
                .setDeserializer(
                        new OutcomeDeserializer(
                                ResultSignature.withKeyFile(conf.get(CUSTOMERS_HISTORY_KEY_FILE))))
                .setProperties(clientProperties(conf))
                .setProperty("isolation.level", "read_committed")
                .build();
    }

    public static KafkaSink<TriageResult> resultSink(ReadableConfig conf) {
        return KafkaSink.<TriageResult>builder()
                .setBootstrapServers(conf.get(KAFKA_BOOTSTRAP_SERVERS))
                .setKafkaProducerConfig(producerProperties(conf))
                .setRecordSerializer(
                        new TriageResultSerializer(
                                conf.get(RESULTS_TOPIC),
                                conf.get(MAX_RECORD_BYTES),
                                ResultSignature.withKeyFile(conf.get(CUSTOMERS_HISTORY_KEY_FILE))))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(conf.get(TRANSACTIONAL_ID_PREFIX) + "-results")
                .build();
    }

    public static KafkaSink<DeadLetter> deadLetterSink(ReadableConfig conf) {
        return KafkaSink.<DeadLetter>builder()
                .setBootstrapServers(conf.get(KAFKA_BOOTSTRAP_SERVERS))
                .setKafkaProducerConfig(producerProperties(conf))
                .setRecordSerializer(
                        new DeadLetterSerializer(conf.get(DLQ_TOPIC), conf.get(MAX_RECORD_BYTES)))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(conf.get(TRANSACTIONAL_ID_PREFIX) + "-dlq")
                .build();
    }

    static OffsetsInitializer startingOffsets(StartingOffsets mode) {
        return switch (mode) {
            case EARLIEST -> OffsetsInitializer.earliest();
            case LATEST -> OffsetsInitializer.latest();
            case COMMITTED_OR_EARLIEST ->
                    OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        };
    }

    private static Properties clientProperties(ReadableConfig conf) {
        Properties props = new Properties();
        props.putAll(conf.get(KAFKA_PROPERTIES));
        return props;
    }

    private static Properties producerProperties(ReadableConfig conf) {
        Properties props = clientProperties(conf);
        props.setProperty(
                "transaction.timeout.ms", String.valueOf(conf.get(TRANSACTION_TIMEOUT).toMillis()));
        return props;
    }
}
