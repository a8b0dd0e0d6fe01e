package dev.triage.records;

import dev.triage.io.Json;

import com.fasterxml.jackson.core.JsonGenerator;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes a {@link TriageResult} as JSON keyed by session id. The answer's texts are bounded by the
 * answer parser; as a last resort a result that would not fit {@code maxRecordBytes} has its texts
 * cut and says {@code "truncated": true}. The Kafka timestamp is left to the producer's clock
 * ({@code created_at} stays in the JSON): a ticket's own time may be negative or hours ahead, which
 * the producer or the broker would refuse. With a {@link ResultSignature}, each record carries the
 * job's signature of its value, so that the results read back as customer history can be told from
 * records someone else wrote to the topic.
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
        byte[] whole = utf8(r, Integer.MAX_VALUE, r.summary(), r.draftReply(), false);
        if (whole.length <= maxBytes) {
            return whole;
        }
        int nameBytes = Math.min(MAX_NAME_BYTES, maxBytes / 32);
        long room = maxBytes - utf8(r, nameBytes, "", "", true).length;
        String summary = Json.prefixWithin(nullToEmpty(r.summary()), room / 4);
        String draftReply =
                Json.prefixWithin(nullToEmpty(r.draftReply()), room - Json.escapedSize(summary));
        byte[] cut = utf8(r, nameBytes, summary, draftReply, true);
        return cut.length <= maxBytes ? cut : utf8(r, 64, "", "", true);
    }

    /**
     * The JSON, written field by field (no tree: this runs for every result), then encoded; the
     * encoder writes a lone surrogate as '?'.
     */
    private static byte[] utf8(
            TriageResult r, int nameBytes, String summary, String draftReply, boolean truncated) {
        StringWriter out = new StringWriter(512 + length(summary) + length(draftReply));
        try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
            g.writeStartObject();
            if (r.tenantId() != null) {
                g.writeStringField("tenant_id", name(r.tenantId(), nameBytes));
            }
            g.writeStringField("ticket_id", name(r.ticketId(), nameBytes));
            g.writeStringField("session_id", name(r.sessionId(), nameBytes));
            g.writeStringField("customer_id", name(r.customerId(), nameBytes));
            g.writeNumberField("turn", r.turn());
            g.writeStringField("category", name(r.category(), nameBytes));
            g.writeStringField("priority", name(r.priority(), nameBytes));
            g.writeStringField("sentiment", name(r.sentiment(), nameBytes));
            g.writeStringField("summary", summary);
            g.writeStringField("draft_reply", draftReply);
            g.writeNumberField("confidence", r.confidence());
            g.writeStringField("model", name(r.model(), nameBytes));
            g.writeNumberField("attempts", r.attempts());
            g.writeObjectFieldStart("usage");
            g.writeNumberField("prompt_tokens", r.promptTokens());
            g.writeNumberField("completion_tokens", r.completionTokens());
            g.writeEndObject();
            g.writeStringField("created_at", Json.isoInstant(r.createdAt()));
            g.writeStringField("triaged_at", Json.isoInstant(r.triagedAt()));
            g.writeNumberField("latency_ms", r.latencyMs());
            g.writeBooleanField("cached", r.cached());
            g.writeArrayFieldStart("draft_reply_flags");
            for (String f : r.draftReplyFlags()) {
                g.writeString(name(f, 64));
            }
            g.writeEndArray();
            if (truncated) {
                g.writeBooleanField("truncated", true);
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static int length(String s) {
        return s == null ? 0 : s.length();
    }

    private static String name(String s, int maxBytes) {
        return s == null ? null : Json.prefixWithin(s, maxBytes);
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
