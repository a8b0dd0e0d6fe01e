package dev.triage.testing;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** A real single-node Kafka broker (KRaft, combined mode) in this JVM, on a random port. */
public final class EmbeddedKafka implements AutoCloseable {

    private final KafkaClusterTestKit cluster;

    private EmbeddedKafka(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
    }

    public static EmbeddedKafka start() throws Exception {
        KafkaClusterTestKit cluster =
                new KafkaClusterTestKit.Builder(
                                new TestKitNodes.Builder()
                                        .setCombined(true)
                                        .setNumBrokerNodes(1)
                                        .setNumControllerNodes(1)
                                        .build())
                        .setConfigProp("offsets.topic.replication.factor", "1")
                        .setConfigProp("transaction.state.log.replication.factor", "1")
                        .setConfigProp("transaction.state.log.min.isr", "1")
                        .setConfigProp("group.initial.rebalance.delay.ms", "0")
                        .build();
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
        return new EmbeddedKafka(cluster);
    }

    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    public void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        }
    }

    /** Sends records (key may be null) and waits until all are acknowledged. */
    public void produce(String topic, List<Map.Entry<String, byte[]>> records) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers());
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        props.put("linger.ms", "5");
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
