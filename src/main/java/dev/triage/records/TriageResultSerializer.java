package dev.triage.records;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;

/** Writes a {@link TriageResult} as JSON keyed by session id (a named class: see the README). */
public class TriageResultSerializer implements KafkaRecordSerializationSchema<TriageResult> {

    private final String topic;

    public TriageResultSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            TriageResult result, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(
                topic,
                null,
                timestamp,
                result.sessionId().getBytes(StandardCharsets.UTF_8),
                toJson(result).getBytes(StandardCharsets.UTF_8));
    }

    public static String toJson(TriageResult r) {
        var node = Json.object();
        node.put("ticket_id", r.ticketId());
        node.put("session_id", r.sessionId());
        node.put("customer_id", r.customerId());
        node.put("turn", r.turn());
        node.put("category", r.category());
        node.put("priority", r.priority());
        node.put("sentiment", r.sentiment());
        node.put("summary", r.summary());
        node.put("draft_reply", r.draftReply());
        node.put("confidence", r.confidence());
        node.put("model", r.model());
        node.put("attempts", r.attempts());
        var usage = node.putObject("usage");
        usage.put("prompt_tokens", r.promptTokens());
        usage.put("completion_tokens", r.completionTokens());
        node.put("created_at", Json.isoInstant(r.createdAt()));
        node.put("triaged_at", Json.isoInstant(r.triagedAt()));
        node.put("latency_ms", r.latencyMs());
        node.put("cached", r.cached());
        return node.toString();
    }
}
