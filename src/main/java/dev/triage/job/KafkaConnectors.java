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
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

import java.util.Properties;

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
