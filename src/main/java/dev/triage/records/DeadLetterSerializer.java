package dev.triage.records;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;

/** Writes a {@link DeadLetter} as JSON, keyed by session id when known. */
public class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetter> {

    private final String topic;

    public DeadLetterSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            DeadLetter letter, KafkaSinkContext context, Long timestamp) {
        byte[] key =
                letter.sessionId() == null
                        ? null
                        : letter.sessionId().getBytes(StandardCharsets.UTF_8);
        return new ProducerRecord<>(
                topic, null, timestamp, key, toJson(letter).getBytes(StandardCharsets.UTF_8));
    }

    public static String toJson(DeadLetter d) {
        var node = Json.object();
        node.put("reason", d.reason());
        node.put("detail", d.detail());
        node.put("ticket_id", d.ticketId());
        node.put("session_id", d.sessionId());
        var source = node.putObject("source");
        source.put("topic", d.sourceTopic());
        source.put("partition", d.sourcePartition());
        source.put("offset", d.sourceOffset());
        node.put("payload", d.payload());
        node.put("payload_encoding", d.payloadEncoding());
        if (d.llmOutput() != null) {
            node.put("llm_output", d.llmOutput());
        }
        node.put("failed_at", Json.isoInstant(d.failedAt()));
        return node.toString();
    }
}
