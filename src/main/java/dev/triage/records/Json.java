package dev.triage.records;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;

/** The one shared, thread-safe JSON mapper and small helpers for the wire formats. */
public final class Json {

    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static String isoInstant(long epochMillis) {
        return Instant.ofEpochMilli(epochMillis).toString();
    }
}
