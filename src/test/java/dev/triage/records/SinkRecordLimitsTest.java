package dev.triage.records;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * Every record the sinks write is one Kafka accepts: a timestamp that neither {@link
 * ProducerRecord} nor the broker refuses, and a size within the producer's {@code
 * max.request.size}, whatever the input (the exploding inputs of issue 11).
 */
class SinkRecordLimitsTest {

    /** The producer's default {@code max.request.size}. */
    static final int MAX_REQUEST_SIZE = 1024 * 1024;

    static final long YEAR_1_MS = -62135596800000L;

    static final Ticket TICKET =
            new Ticket("T-1", "S-1", null, "email", "Subj", "Body", 0L, "tickets", 3, 42L);

    // ---------------------------------------------------------------- timestamps

    @Test
    void aResultForATicketFromYearOneGetsATimestampKafkaAccepts() {
        var record =
                new TriageResultSerializer("results")
                        .serialize(result(YEAR_1_MS, "s", "r"), null, YEAR_1_MS);

        assertKafkaAcceptsTheTimestamp(record);
        assertThat(json(record).get("created_at").asText()).isEqualTo("0001-01-01T00:00:00Z");
    }

    @Test
    void aResultForATicketFromTheFarFutureGetsATimestampKafkaAccepts() {
        long year2099 = 4070908800000L;
        var serializer = new TriageResultSerializer("results");

        assertKafkaAcceptsTheTimestamp(
                serializer.serialize(result(year2099, "s", "r"), null, year2099));
        assertKafkaAcceptsTheTimestamp(
                serializer.serialize(result(year2099, "s", "r"), null, Long.MAX_VALUE));
        assertThat(
                        json(serializer.serialize(result(year2099, "s", "r"), null, year2099))
                                .get("created_at")
                                .asText())
                .isEqualTo("2099-01-01T00:00:00Z");
    }

    @Test
    void aDeadLetterGetsATimestampKafkaAcceptsWhateverItsStreamTimestamp() {
        var serializer = new DeadLetterSerializer("dlq");
        DeadLetter letter =
                DeadLetter.ofTicket(DeadLetter.Reason.LLM_REJECTED, "no", TICKET, null, 5L);
        for (long timestamp : new long[] {YEAR_1_MS, -1L, Long.MAX_VALUE, 4070908800000L}) {
            assertKafkaAcceptsTheTimestamp(serializer.serialize(letter, null, timestamp));
        }
    }

    // ---------------------------------------------------------------- sizes

    @Test
    void aDeadLetterOf180KbOfControlBytesFitsTheProducer() {
        // 180 KB of 0x01 is valid UTF-8; each byte escapes to six bytes: 1,080,250 B before.
        byte[] bytes = new byte[180 * 1024];
        Arrays.fill(bytes, (byte) 0x01);

        assertFitsTheProducer(rawDeadLetter(bytes));
    }

    @Test
    void aDeadLetterOf600KbOfQuotesFitsTheProducer() {
        byte[] bytes = new byte[600 * 1024];
        Arrays.fill(bytes, (byte) '"');

        assertFitsTheProducer(rawDeadLetter(bytes));
    }

    @Test
    void aDeadLetterOf800KbOfInvalidUtf8FitsTheProducer() {
        // base64 grows 800 KB to 1,092,268 B.
        byte[] bytes = new byte[800 * 1024];
        Arrays.fill(bytes, (byte) 0xff);

        assertFitsTheProducer(rawDeadLetter(bytes));
    }

    @Test
    void aDeadLetterWithAHugeProviderErrorAndAHugeModelAnswerFitsTheProducer() {
        String hugeError = "\u0002".repeat(400_000);
        String hugeAnswer = "\"\\".repeat(400_000);
        DeadLetter letter =
                DeadLetter.ofTicket(
                        DeadLetter.Reason.LLM_INVALID_OUTPUT, hugeError, TICKET, hugeAnswer, 5L);

        assertFitsTheProducer(new DeadLetterSerializer("dlq").serialize(letter, null, 5L));
    }

    @Test
    void aCutDeadLetterKeepsAPrefixOfThePayloadWithTheWholeSizeAndDigest() throws Exception {
        byte[] bytes = new byte[180 * 1024];
        Arrays.fill(bytes, (byte) 0x01);
        var json = json(rawDeadLetter(bytes));

        assertThat(json.get("payload_bytes").asLong()).isEqualTo(bytes.length);
        assertThat(json.get("payload_sha256").asText()).isEqualTo(sha256(bytes));
        assertThat(json.get("payload_truncated").asBoolean()).isTrue();
        String payload = json.get("payload").asText();
        assertThat(payload).isNotEmpty();
        assertThat(new String(bytes, StandardCharsets.UTF_8)).startsWith(payload);
    }

    @Test
    void aCutBase64PayloadDecodesToAPrefixOfTheBytes() {
        byte[] bytes = new byte[800 * 1024];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (0x80 | i); // never valid UTF-8 on its own
        }
        var json = json(rawDeadLetter(bytes));

        assertThat(json.get("payload_encoding").asText()).isEqualTo("base64");
        byte[] prefix = Base64.getDecoder().decode(json.get("payload").asText());
        assertThat(prefix.length).isGreaterThan(500_000).isLessThan(bytes.length);
        assertThat(Arrays.copyOf(bytes, prefix.length)).isEqualTo(prefix);
        assertThat(json.get("payload_bytes").asLong()).isEqualTo(bytes.length);
        assertThat(json.get("payload_truncated").asBoolean()).isTrue();
    }

    @Test
    void aSmallDeadLetterKeepsItsWholePayload() {
        var json = json(rawDeadLetter("not json".getBytes(StandardCharsets.UTF_8)));

        assertThat(json.get("payload").asText()).isEqualTo("not json");
        assertThat(json.get("payload_truncated").asBoolean()).isFalse();
        assertThat(json.get("payload_bytes").asLong()).isEqualTo(8);
        assertThat(json.has("llm_output_truncated")).isFalse();
        assertThat(json.get("detail").asText()).isEqualTo("record too large");
    }

    @Test
    void aHugeDetailAndModelOutputAreCutAndMarked() {
        DeadLetter letter =
                DeadLetter.ofTicket(
                        DeadLetter.Reason.LLM_INVALID_OUTPUT,
                        "e".repeat(100_000),
                        TICKET,
                        "o".repeat(100_000),
                        5L);
        var json = json(new DeadLetterSerializer("dlq").serialize(letter, null, 5L));

        assertThat(json.get("detail").asText()).endsWith("[truncated]").hasSizeLessThan(5000);
        assertThat(json.get("llm_output").asText()).hasSizeLessThanOrEqualTo(64 * 1024);
        assertThat(json.get("llm_output_truncated").asBoolean()).isTrue();
        assertThat(json.get("llm_output_bytes").asLong()).isEqualTo(100_000);
        assertThat(json.get("payload_truncated").asBoolean()).isFalse();
    }

    @Test
    void aDeadLetterTooLargeEvenWithoutItsPayloadBecomesAMinimalRecord() {
        String huge = "\u0001".repeat(1_000_000);
        DeadLetter letter =
                new DeadLetter(
                        "llm_invalid_output",
                        huge,
                        huge,
                        huge,
                        "tickets",
                        1,
                        9L,
                        huge,
                        "text",
                        huge,
                        5L);
        int limit = 16 * 1024;
        var record = new DeadLetterSerializer("dlq", limit).serialize(letter, null, 5L);

        assertThat(record.key().length + record.value().length).isLessThanOrEqualTo(limit);
        var json = json(record);
        assertThat(json.get("reason").asText()).isEqualTo("llm_invalid_output");
        assertThat(json.has("payload")).isFalse();
        assertThat(json.get("payload_bytes").asLong()).isEqualTo(1_000_000);
        assertThat(json.at("/source/offset").asLong()).isEqualTo(9L);
        assertThat(json.get("detail").asText()).contains("omitted");
    }

    @Test
    void aHugeSessionIdIsCutInTheKey() {
        String session = "s".repeat(1_000_000);
        DeadLetter letter =
                new DeadLetter(
                        "invalid_field", "d", null, session, "t", 0, 0L, "x", "text", null, 5L);
        var record = new DeadLetterSerializer("dlq").serialize(letter, null, 5L);

        assertThat(record.key()).hasSizeLessThanOrEqualTo(RecordLimits.MAX_KEY_BYTES);
        assertFitsTheProducer(record);
    }

    @Test
    void aResultThatFitsIsWrittenWhole() {
        var json =
                json(
                        new TriageResultSerializer("results")
                                .serialize(
                                        result(0L, "\"".repeat(2000), "r".repeat(8000)), null, 0L));

        assertThat(json.get("summary").asText()).isEqualTo("\"".repeat(2000));
        assertThat(json.get("draft_reply").asText()).hasSize(8000);
        assertThat(json.has("truncated")).isFalse();
    }

    @Test
    void aResultWithHugeTextsIsCutToFitAndSaysSo() {
        String huge = "\u0003".repeat(1_000_000);
        var r =
                new TriageResult(
                        "T-1", huge, huge, 1, huge, huge, huge, huge, huge, 0.5, huge, 1, 10, 5, 0L,
                        1000L, 3L, false);
        for (int limit : new int[] {RecordLimits.DEFAULT_MAX_RECORD_BYTES, 16 * 1024}) {
            var record = new TriageResultSerializer("results", limit).serialize(r, null, 0L);

            assertFitsTheProducer(record);
            assertThat(record.key().length + record.value().length).isLessThanOrEqualTo(limit);
            var json = json(record);
            assertThat(json.get("truncated").asBoolean()).isTrue();
            assertThat(json.get("ticket_id").asText()).isEqualTo("T-1");
            assertThat(json.get("draft_reply").asText()).isNotEmpty();
        }
    }

    // ---------------------------------------------------------------- helpers

    static String sha256(byte[] bytes) throws Exception {
        return java.util.HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    static TriageResult result(long createdAt, String summary, String draftReply) {
        return new TriageResult(
                "T-1",
                "S-1",
                "C-1",
                1,
                "billing",
                "high",
                "negative",
                summary,
                draftReply,
                0.5,
                "m",
                1,
                10,
                5,
                createdAt,
                1000L,
                3L,
                false);
    }

    static ProducerRecord<byte[], byte[]> rawDeadLetter(byte[] value) {
        DeadLetter letter =
                DeadLetter.ofRaw(
                        DeadLetter.Reason.TOO_LARGE,
                        "record too large",
                        null,
                        null,
                        new RawTicket("tickets", 0, 7L, 0L, value),
                        5L);
        return new DeadLetterSerializer("dlq").serialize(letter, null, 5L);
    }

    /**
     * Null lets the producer stamp its own clock; otherwise no earlier than 1970 and no later than
     * the broker's default {@code log.message.timestamp.after.max.ms} (1 h) ahead.
     */
    static void assertKafkaAcceptsTheTimestamp(ProducerRecord<byte[], byte[]> record) {
        Long ts = record.timestamp();
        if (ts != null) {
            assertThat(ts).isBetween(0L, System.currentTimeMillis() + 3_600_000L);
        }
    }

    /** The same estimate the producer checks against {@code max.request.size}. */
    static int producerSize(ProducerRecord<byte[], byte[]> record) {
        return AbstractRecords.estimateSizeInBytesUpperBound(
                RecordBatch.CURRENT_MAGIC_VALUE,
                CompressionType.NONE,
                record.key(),
                record.value(),
                record.headers().toArray());
    }

    static void assertFitsTheProducer(ProducerRecord<byte[], byte[]> record) {
        assertThat(producerSize(record)).isLessThanOrEqualTo(MAX_REQUEST_SIZE);
        int keyBytes = record.key() == null ? 0 : record.key().length;
        assertThat(keyBytes + record.value().length)
                .isLessThanOrEqualTo(RecordLimits.DEFAULT_MAX_RECORD_BYTES);
        assertThat(json(record).isObject()).isTrue();
    }

    static com.fasterxml.jackson.databind.JsonNode json(ProducerRecord<byte[], byte[]> record) {
        try {
            return Json.MAPPER.readTree(new String(record.value(), StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new AssertionError("not JSON", e);
        }
    }
}
