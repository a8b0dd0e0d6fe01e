package dev.triage.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;
import dev.triage.records.RecordLimits;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Decodes a fuzzer's bytes into record fields, in a format a person can write seeds in: byte 0
 * picks how often each text is repeated (2^(b & 15), up to 32,768: a few bytes reach the megabyte
 * inputs that once broke the sinks), byte 1 picks the record bound (16 KiB << (b & 7), at most
 * 1,000,000), the rest is texts separated by 0x1E. Missing texts are null, and so is a text that is
 * just U+2400 (the "null" symbol).
 */
final class FuzzInputs {

    static final byte SEPARATOR = 0x1E;

    /** The producer's default {@code max.request.size}. */
    static final int MAX_REQUEST_SIZE = 1024 * 1024;

    final int repeat;
    final int maxRecordBytes;
    private final List<byte[]> parts = new ArrayList<>();

    FuzzInputs(byte[] data) {
        repeat = data.length > 0 ? 1 << (data[0] & 0x0F) : 1;
        maxRecordBytes =
                data.length > 1
                        ? Math.min(
                                RecordLimits.MIN_MAX_RECORD_BYTES << (data[1] & 0x07),
                                RecordLimits.DEFAULT_MAX_RECORD_BYTES)
                        : RecordLimits.DEFAULT_MAX_RECORD_BYTES;
        int start = Math.min(2, data.length);
        for (int i = start; i <= data.length; i++) {
            if (i == data.length || data[i] == SEPARATOR) {
                parts.add(Arrays.copyOfRange(data, start, i));
                start = i + 1;
            }
        }
    }

    /** Text number {@code i}, repeated, or null. */
    String text(int i) {
        if (i >= parts.size()) {
            return null;
        }
        String s = new String(parts.get(i), StandardCharsets.UTF_8);
        return s.equals("\u2400") ? null : s.repeat(repeat);
    }

    /** Text number {@code i}, not repeated, or "" . */
    String word(int i) {
        return i >= parts.size() ? "" : new String(parts.get(i), StandardCharsets.UTF_8);
    }

    /** Bytes number {@code i}, repeated, or null. */
    byte[] bytes(int i) {
        if (i >= parts.size()) {
            return null;
        }
        byte[] p = parts.get(i);
        byte[] out = new byte[p.length * repeat];
        for (int r = 0; r < repeat; r++) {
            System.arraycopy(p, 0, out, r * p.length, p.length);
        }
        return out;
    }

    /** A number from text {@code i} (its hash when it is not one), never failing. */
    long number(int i) {
        String w = word(i).strip();
        try {
            return Long.parseLong(w);
        } catch (NumberFormatException e) {
            return w.hashCode();
        }
    }

    /** Asserts what the producer and broker check: size within bounds, and valid JSON. */
    static void assertFits(ProducerRecord<byte[], byte[]> record, int maxRecordBytes) {
        int key = record.key() == null ? 0 : record.key().length;
        assertThat(key + record.value().length).isLessThanOrEqualTo(maxRecordBytes);
        assertThat(
                        AbstractRecords.estimateSizeInBytesUpperBound(
                                RecordBatch.CURRENT_MAGIC_VALUE,
                                CompressionType.NONE,
                                record.key(),
                                record.value(),
                                record.headers().toArray()))
                .isLessThanOrEqualTo(MAX_REQUEST_SIZE);
        assertThat(record.timestamp() == null || record.timestamp() >= 0).isTrue();
        try {
            assertThat(Json.MAPPER.readTree(record.value()).isObject()).isTrue();
        } catch (java.io.IOException e) {
            throw new AssertionError("a written record is not JSON", e);
        }
    }
}
