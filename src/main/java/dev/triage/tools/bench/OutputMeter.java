package dev.triage.tools.bench;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads a run's results and dead letters as a user would (read_committed, from the beginning) on
 * its own thread, and notes for every record the broker's append time and when it became visible.
 */
final class OutputMeter implements AutoCloseable {

    private final KafkaConsumer<String, String> consumer;
    private final String dlqTopic;
    private final String measuredPrefix;
    private final List<RunStats.Output> outputs = new ArrayList<>();
    private final Set<String> distinct = ConcurrentHashMap.newKeySet();
    private final Set<String> distinctMeasured = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private volatile boolean running = true;

    OutputMeter(String bootstrap, List<TopicPartition> partitions, String dlqTopic, String prefix) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("isolation.level", "read_committed");
        props.put("enable.auto.commit", "false");
        props.put("max.poll.records", "5000");
        this.consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        this.dlqTopic = dlqTopic;
        this.measuredPrefix = prefix;
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        this.thread = new Thread(this::loop, "bench-output-meter");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        while (running) {
            var records = consumer.poll(Duration.ofMillis(50));
            long now = System.currentTimeMillis();
            for (ConsumerRecord<String, String> r : records) {
                String id = null;
                String session = null;
                try {
                    JsonNode node = Json.MAPPER.readTree(r.value());
                    id = node.path("ticket_id").asText(null);
                    session = node.path("session_id").asText(null);
                } catch (Exception e) {
                    // counted under its offset below
                }
                if (id == null) {
                    id = r.topic() + "@" + r.partition() + ":" + r.offset();
                }
                synchronized (outputs) {
                    outputs.add(
                            new RunStats.Output(
                                    id,
                                    session,
                                    r.topic().equals(dlqTopic),
                                    r.partition(),
                                    r.timestamp(),
                                    now));
                }
                distinct.add(id);
                if (id.startsWith(measuredPrefix)) {
                    distinctMeasured.add(id);
                }
            }
        }
    }

    /** Distinct tickets seen so far whose id starts with {@code prefix}. */
    int distinct(String prefix) {
        if (prefix.equals(measuredPrefix)) {
            return distinctMeasured.size();
        }
        return (int) distinct.stream().filter(id -> id.startsWith(prefix)).count();
    }

    /** Every record seen so far whose ticket id starts with {@code prefix}, in reading order. */
    List<RunStats.Output> outputs(String prefix) {
        synchronized (outputs) {
            return outputs.stream().filter(o -> o.ticketId().startsWith(prefix)).toList();
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(5000);
        consumer.close();
    }
}
