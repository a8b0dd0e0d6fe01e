package dev.triage.records;

import dev.triage.io.Json;

import java.nio.charset.StandardCharsets;

/**
 * The bounds that keep every record the sinks write acceptable to Kafka, whatever the input. The
 * producer refuses a record over {@code max.request.size} (default 1,048,576 B) and the broker one
 * over {@code message.max.bytes} (default 1,048,588 B, batch header included); a refused record
 * would fail the job on every restore.
 */
public final class RecordLimits {

    /**
     * Default bound on a record's key plus value: below the producer's and broker's 1 MiB defaults
     * with room to spare for the record and batch headers.
     */
    public static final int DEFAULT_MAX_RECORD_BYTES = 1_000_000;

    /** The smallest bound a sink accepts: room for the last-resort minimal records. */
    public static final int MIN_MAX_RECORD_BYTES = 16 * 1024;

    /** Largest record key (UTF-8 bytes of the session id); longer ones are cut. */
    public static final int MAX_KEY_BYTES = 1024;

    /** Largest payload a dead letter carries between operators, before the sink cuts it to fit. */
    public static final int MAX_IN_FLIGHT_PAYLOAD_BYTES = 1024 * 1024;

    private RecordLimits() {}

    /** The record key for a session id: its UTF-8 bytes, at most {@link #MAX_KEY_BYTES}. */
    public static byte[] key(String sessionId) {
        if (sessionId == null) {
            return null;
        }
        return Json.utf8PrefixWithin(sessionId, MAX_KEY_BYTES).getBytes(StandardCharsets.UTF_8);
    }

    static int checked(int maxRecordBytes) {
        if (maxRecordBytes < MIN_MAX_RECORD_BYTES) {
            throw new IllegalArgumentException(
                    "max record bytes must be at least "
                            + MIN_MAX_RECORD_BYTES
                            + ", not "
                            + maxRecordBytes);
        }
        return maxRecordBytes;
    }
}
