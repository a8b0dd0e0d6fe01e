package dev.triage.job;

import static dev.triage.config.TriageOptions.*;

import dev.triage.records.CustomerEvent;
import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetterSerializer;
import dev.triage.records.OutcomeDeserializer;
import dev.triage.records.RawCustomer;
import dev.triage.records.RawCustomerDeserializer;
import dev.triage.records.RawTicket;
import dev.triage.records.RawTicketDeserializer;
import dev.triage.records.TriageResult;
import dev.triage.records.TriageResultSerializer;

import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Builds the Kafka source and the exactly-once sinks from the job settings. */
public final class KafkaConnectors {

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
     * Fails the submission with a clear message when a topic the job reads is missing: a Kafka
     * source on a missing topic would otherwise fail over again and again at runtime.
     */
    public static void checkTopicsExist(ReadableConfig conf) throws Exception {
        List<String> needed =
                new ArrayList<>(List.of(conf.get(TICKETS_TOPIC), conf.get(RESULTS_TOPIC)));
        if (conf.get(CUSTOMERS_ENABLED)) {
            needed.add(conf.get(CUSTOMERS_TOPIC));
        }
        Properties props = clientProperties(conf);
        props.put("bootstrap.servers", conf.get(KAFKA_BOOTSTRAP_SERVERS));
        try (Admin admin = Admin.create(props)) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<String> missing = needed.stream().filter(t -> !existing.contains(t)).toList();
            if (!missing.isEmpty()) {
                throw new IllegalStateException(
                        "Kafka topics "
                                + missing
                                + " do not exist on "
                                + conf.get(KAFKA_BOOTSTRAP_SERVERS)
                                + ". Create them (the customers topic with cleanup.policy=compact),"
                                + " or set customers.enabled: false to run without customer context.");
            }
        }
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
                .setDeserializer(new OutcomeDeserializer())
                .setProperties(clientProperties(conf))
                .setProperty("isolation.level", "read_committed")
                .build();
    }

    public static KafkaSink<TriageResult> resultSink(ReadableConfig conf) {
        return KafkaSink.<TriageResult>builder()
                .setBootstrapServers(conf.get(KAFKA_BOOTSTRAP_SERVERS))
                .setKafkaProducerConfig(producerProperties(conf))
                .setRecordSerializer(new TriageResultSerializer(conf.get(RESULTS_TOPIC)))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(conf.get(TRANSACTIONAL_ID_PREFIX) + "-results")
                .build();
    }

    public static KafkaSink<DeadLetter> deadLetterSink(ReadableConfig conf) {
        return KafkaSink.<DeadLetter>builder()
                .setBootstrapServers(conf.get(KAFKA_BOOTSTRAP_SERVERS))
                .setKafkaProducerConfig(producerProperties(conf))
                .setRecordSerializer(new DeadLetterSerializer(conf.get(DLQ_TOPIC)))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(conf.get(TRANSACTIONAL_ID_PREFIX) + "-dlq")
                .build();
    }

    static OffsetsInitializer startingOffsets(String mode) {
        return switch (mode) {
            case "earliest" -> OffsetsInitializer.earliest();
            case "latest" -> OffsetsInitializer.latest();
            case "committed-or-earliest" ->
                    OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            default ->
                    throw new IllegalArgumentException(
                            "kafka.starting-offsets must be earliest, latest or committed-or-earliest, not "
                                    + mode);
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
