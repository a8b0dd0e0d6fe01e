package dev.triage.tools.data;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;

/** Reads a topic from the beginning with isolation level read_committed. */
public final class TopicReader implements AutoCloseable {

    private final KafkaConsumer<String, String> consumer;
    private final List<TopicPartition> partitions;

    public TopicReader(String bootstrap, String topic) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("isolation.level", "read_committed");
        props.put("enable.auto.commit", "false");
        consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        partitions =
                consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                        .map(p -> new TopicPartition(topic, p.partition()))
                        .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** Polls once, handing each value to {@code sink}; returns how many arrived. */
    public int poll(Consumer<String> sink) {
        int n = 0;
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
            sink.accept(r.value());
            n++;
        }
        return n;
    }

    /** Everything committed up to now (the last stable offsets at the time of the call). */
    public List<String> readToEnd() {
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        List<String> values = new ArrayList<>();
        while (!partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp))) {
            poll(values::add);
        }
        return values;
    }

    public boolean atEnd(Map<TopicPartition, Long> end) {
        return partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp));
    }

    public Map<TopicPartition, Long> endOffsets() {
        return consumer.endOffsets(partitions);
    }

    @Override
    public void close() {
        consumer.close();
    }
}
