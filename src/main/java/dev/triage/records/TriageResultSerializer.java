package dev.triage.records;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes a {@link TriageResult} as JSON keyed by session id (a named class: see the README). The
 * answer's texts are bounded by the answer parser; as a last resort a result that would not fit
 * {@code maxRecordBytes} has its texts cut and says {@code "truncated": true}. The Kafka timestamp
 * is left to the producer's clock ({@code created_at} stays in the JSON): a ticket's own time may
 * be negative or hours ahead, which the producer or the broker would refuse. With a {@link
 * ResultSignature}, each record carries the job's signature of its value, so that the results read
 * back as customer history can be told from records someone else wrote to the topic.
 */
public class TriageResultSerializer implements KafkaRecordSerializationSchema<TriageResult> {

    /** Bound of each short text (ids, labels, model) in a cut result (escaped UTF-8 bytes). */
    static final int MAX_NAME_BYTES = 1024;

    /** Room for the signature header (name and 32 bytes) within the record bound. */
    static final int SIGNATURE_BYTES = 64;

    private final String topic;
    private final int maxRecordBytes;
    private final ResultSignature signature;

    public TriageResultSerializer(String topic) {
        this(topic, RecordLimits.DEFAULT_MAX_RECORD_BYTES);
    }

    /** {@code maxRecordBytes}: bound on key plus value, at least 16 KiB. */
    public TriageResultSerializer(String topic, int maxRecordBytes) {
        this(topic, maxRecordBytes, ResultSignature.none());
    }

    public TriageResultSerializer(String topic, int maxRecordBytes, ResultSignature signature) {
        this.topic = topic;
        this.maxRecordBytes = RecordLimits.checked(maxRecordBytes);
        this.signature = signature;
    }

    @Override
    public void open(
            SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext)
            throws Exception {
        signature.checked();
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            TriageResult result, KafkaSinkContext context, Long timestamp) {
        byte[] key = RecordLimits.key(result.sessionId());
        if (!signature.enabled()) {
            byte[] value = toBytes(result, maxRecordBytes - (key == null ? 0 : key.length));
            return new ProducerRecord<>(topic, null, null, key, value);
        }
        byte[] value =
                toBytes(result, maxRecordBytes - (key == null ? 0 : key.length) - SIGNATURE_BYTES);
        List<Header> headers =
                List.of(new RecordHeader(ResultSignature.HEADER, signature.sign(value)));
        return new ProducerRecord<>(topic, null, null, key, value, headers);
    }

    /** The JSON of a result, within the default bound. */
    public static String toJson(TriageResult r) {
        return new String(
                toBytes(r, RecordLimits.DEFAULT_MAX_RECORD_BYTES - RecordLimits.MAX_KEY_BYTES),
                StandardCharsets.UTF_8);
    }

    /** The JSON of a result as UTF-8, at most {@code maxBytes} long. */
    static byte[] toBytes(TriageResult r, int maxBytes) {
        byte[] whole = utf8(node(r, Integer.MAX_VALUE, r.summary(), r.draftReply(), false));
        if (whole.length <= maxBytes) {
            return whole;
        }
        int nameBytes = Math.min(MAX_NAME_BYTES, maxBytes / 32);
        long room = maxBytes - utf8(node(r, nameBytes, "", "", true)).length;
        String summary = Json.prefixWithin(nullToEmpty(r.summary()), room / 4);
        String draftReply =
                Json.prefixWithin(nullToEmpty(r.draftReply()), room - Json.escapedSize(summary));
        byte[] cut = utf8(node(r, nameBytes, summary, draftReply, true));
        return cut.length <= maxBytes ? cut : utf8(node(r, 64, "", "", true));
    }

    private static ObjectNode node(
            TriageResult r, int nameBytes, String summary, String draftReply, boolean truncated) {
        var node = Json.object();
        if (r.tenantId() != null) {
            node.put("tenant_id", name(r.tenantId(), nameBytes));
        }
        node.put("ticket_id", name(r.ticketId(), nameBytes));
        node.put("session_id", name(r.sessionId(), nameBytes));
        node.put("customer_id", name(r.customerId(), nameBytes));
        node.put("turn", r.turn());
        node.put("category", name(r.category(), nameBytes));
        node.put("priority", name(r.priority(), nameBytes));
        node.put("sentiment", name(r.sentiment(), nameBytes));
        node.put("summary", summary);
        node.put("draft_reply", draftReply);
        node.put("confidence", r.confidence());
        node.put("model", name(r.model(), nameBytes));
        node.put("attempts", r.attempts());
        var usage = node.putObject("usage");
        usage.put("prompt_tokens", r.promptTokens());
        usage.put("completion_tokens", r.completionTokens());
        node.put("created_at", Json.isoInstant(r.createdAt()));
        node.put("triaged_at", Json.isoInstant(r.triagedAt()));
        node.put("latency_ms", r.latencyMs());
        node.put("cached", r.cached());
        var flags = node.putArray("draft_reply_flags");
        for (String f : r.draftReplyFlags()) {
            flags.add(name(f, 64));
        }
        if (truncated) {
            node.put("truncated", true);
        }
        return node;
    }

    private static String name(String s, int maxBytes) {
        return s == null ? null : Json.prefixWithin(s, maxBytes);
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    private static byte[] utf8(ObjectNode node) {
        return node.toString().getBytes(StandardCharsets.UTF_8);
    }
}
