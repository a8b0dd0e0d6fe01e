package dev.triage.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;
import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetterSerializer;
import dev.triage.records.RawTicket;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Any dead letter (see {@link FuzzInputs} for the input format; texts: reason, detail, ticket,
 * session, topic, payload bytes, model output; then failed_at and the stream timestamp): never
 * throws, always fits, and says how large the payload was.
 */
class DeadLetterSerializerFuzzTest {

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) throws Exception {
        FuzzInputs in = new FuzzInputs(data);
        byte[] payload = in.bytes(5);
        RawTicket raw = new RawTicket(in.text(4), 0, in.number(9), 0L, payload);
        DeadLetter base =
                DeadLetter.ofRaw(
                        DeadLetter.Reason.INVALID_JSON,
                        in.text(1),
                        in.text(2),
                        in.text(3),
                        raw,
                        in.number(7));
        DeadLetter letter =
                new DeadLetter(
                        in.text(0),
                        base.detail(),
                        base.ticketId(),
                        base.sessionId(),
                        base.sourceTopic(),
                        base.sourcePartition(),
                        base.sourceOffset(),
                        base.payload(),
                        base.payloadEncoding(),
                        in.text(6),
                        base.failedAt(),
                        base.payloadBytes(),
                        base.payloadSha256(),
                        base.payloadTruncated());
        var record =
                new DeadLetterSerializer("dlq", in.maxRecordBytes)
                        .serialize(letter, null, in.number(8));

        FuzzInputs.assertFits(record, in.maxRecordBytes);
        var json = Json.MAPPER.readTree(record.value());
        assertThat(json.get("payload_bytes").asLong())
                .isEqualTo(payload == null ? 0 : payload.length);
        assertThat(json.get("payload_sha256").asText()).hasSize(64);
    }
}
