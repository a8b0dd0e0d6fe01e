package dev.triage.records;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;

/**
 * Writes a {@link DeadLetter} as JSON, keyed by session id when known. Whatever the input, the
 * record fits {@code maxRecordBytes} (measured as written: escaping can grow a text six-fold): the
 * detail and the model's output are capped, the payload gets the room that is left (its full size
 * and digest stay in {@code payload_bytes} and {@code payload_sha256}), and a record that still
 * does not fit becomes a minimal one without payload. The Kafka timestamp is left to the producer's
 * clock: a dead letter's own times are in the JSON.
 */
public class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetter> {

    /** Largest {@code detail} written (escaped UTF-8 bytes); longer ones are cut and marked. */
    public static final int MAX_DETAIL_BYTES = 4 * 1024;

    /** Largest {@code llm_output} written (escaped UTF-8 bytes). */
    public static final int MAX_LLM_OUTPUT_BYTES = 64 * 1024;

    /** Largest ticket id, session id, topic or reason written (escaped UTF-8 bytes). */
    static final int MAX_NAME_BYTES = 1024;

    /** Bound of the same names in the last-resort record. */
    static final int MINIMAL_NAME_BYTES = 256;

    static final String TRUNCATION_MARK = " [truncated]";

    private final String topic;
    private final int maxRecordBytes;

    public DeadLetterSerializer(String topic) {
        this(topic, RecordLimits.DEFAULT_MAX_RECORD_BYTES);
    }

    /** {@code maxRecordBytes}: bound on key plus value, at least 16 KiB. */
    public DeadLetterSerializer(String topic, int maxRecordBytes) {
        this.topic = topic;
        this.maxRecordBytes = RecordLimits.checked(maxRecordBytes);
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            DeadLetter letter, KafkaSinkContext context, Long timestamp) {
        byte[] key = RecordLimits.key(letter.sessionId());
        byte[] value = toBytes(letter, maxRecordBytes - (key == null ? 0 : key.length));
        // null: the producer stamps its own clock, which the broker always accepts; the stream
        // timestamp may be a ticket's created_at from any century.
        return new ProducerRecord<>(topic, null, null, key, value);
    }

    /** The JSON of a dead letter, within the default bound. */
    public static String toJson(DeadLetter d) {
        return new String(
                toBytes(d, RecordLimits.DEFAULT_MAX_RECORD_BYTES - RecordLimits.MAX_KEY_BYTES),
                StandardCharsets.UTF_8);
    }

    /** The JSON of a dead letter as UTF-8, at most {@code maxBytes} long. */
    static byte[] toBytes(DeadLetter d, int maxBytes) {
        ObjectNode node = Json.object();
        node.put("reason", name(d.reason(), MAX_NAME_BYTES));
        node.put("detail", capped(d.detail(), MAX_DETAIL_BYTES));
        node.put("ticket_id", name(d.ticketId(), MAX_NAME_BYTES));
        node.put("session_id", name(d.sessionId(), MAX_NAME_BYTES));
        putSource(node, d, MAX_NAME_BYTES);
        node.put("payload", "");
        node.put("payload_encoding", d.payloadEncoding());
        node.put("payload_bytes", d.payloadBytes());
        node.put("payload_sha256", d.payloadSha256());
        node.put("payload_truncated", false); // measured with the longer of the two values
        if (d.llmOutput() != null) {
            String output = Json.prefixWithin(d.llmOutput(), MAX_LLM_OUTPUT_BYTES);
            node.put("llm_output", output);
            if (output.length() < d.llmOutput().length()) {
                node.put("llm_output_bytes", utf8Length(d.llmOutput()));
                node.put("llm_output_truncated", true);
            }
        }
        node.put("failed_at", Json.isoInstant(d.failedAt()));

        String payload = d.payload() == null ? "" : d.payload();
        long room = maxBytes - utf8(node).length;
        String kept = Json.prefixWithin(payload, room);
        if ("base64".equals(d.payloadEncoding())) {
            kept = kept.substring(0, kept.length() / 4 * 4); // whole groups: a prefix of the bytes
        }
        node.put("payload", kept);
        node.put("payload_truncated", d.payloadTruncated() || kept.length() < payload.length());
        byte[] out = utf8(node);
        return out.length <= maxBytes ? out : utf8(minimal(d, maxBytes));
    }

    /** The last resort: what the dead letter is about and where the input is, no payload. */
    private static ObjectNode minimal(DeadLetter d, int maxBytes) {
        ObjectNode node = Json.object();
        node.put("reason", name(d.reason(), MINIMAL_NAME_BYTES));
        node.put(
                "detail",
                "dead letter larger than " + maxBytes + " bytes; payload and details omitted");
        node.put("ticket_id", name(d.ticketId(), MINIMAL_NAME_BYTES));
        node.put("session_id", name(d.sessionId(), MINIMAL_NAME_BYTES));
        putSource(node, d, MINIMAL_NAME_BYTES);
        node.put("payload_encoding", name(d.payloadEncoding(), MINIMAL_NAME_BYTES));
        node.put("payload_bytes", d.payloadBytes());
        node.put("payload_sha256", name(d.payloadSha256(), MINIMAL_NAME_BYTES));
        node.put("payload_truncated", true);
        node.put("failed_at", Json.isoInstant(d.failedAt()));
        return node;
    }

    private static void putSource(ObjectNode node, DeadLetter d, int maxNameBytes) {
        var source = node.putObject("source");
        source.put("topic", name(d.sourceTopic(), maxNameBytes));
        source.put("partition", d.sourcePartition());
        source.put("offset", d.sourceOffset());
    }

    private static String name(String s, int maxBytes) {
        return s == null ? null : Json.prefixWithin(s, maxBytes);
    }

    private static String capped(String s, int maxBytes) {
        if (s == null || Json.escapedSize(s) <= maxBytes) {
            return s;
        }
        return Json.prefixWithin(s, maxBytes - TRUNCATION_MARK.length()) + TRUNCATION_MARK;
    }

    private static long utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static byte[] utf8(ObjectNode node) {
        return node.toString().getBytes(StandardCharsets.UTF_8);
    }
}
