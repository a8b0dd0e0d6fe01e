package dev.triage.operators;

import dev.triage.records.CustomerEvent;
import dev.triage.records.CustomerProfile;
import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetter.Reason;
import dev.triage.records.Json;
import dev.triage.records.RawCustomer;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.nio.charset.StandardCharsets;

/**
 * Turns records of the compacted customers topic into profile events: a JSON object with at least
 * {@code customer_id} (and optionally {@code name}, {@code tier}, {@code plan}, {@code language}),
 * or a tombstone (null value, the key is the customer id) that deletes the profile. Anything else
 * goes to the dead-letter topic with the original payload.
 */
public class CustomerParser extends ProcessFunction<RawCustomer, CustomerEvent> {

    private static final long serialVersionUID = 1L;

    @Override
    public void processElement(RawCustomer raw, Context ctx, Collector<CustomerEvent> out) {
        if (raw.value() == null) {
            if (raw.key() != null && raw.key().length > 0) {
                out.collect(CustomerEvent.deleted(new String(raw.key(), StandardCharsets.UTF_8)));
            } else {
                reject(ctx, Reason.MISSING_FIELD, "customer tombstone without a key", raw);
            }
            return;
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(raw.value());
        } catch (Exception e) {
            reject(ctx, Reason.INVALID_JSON, "customer record is not JSON: " + e.getMessage(), raw);
            return;
        }
        if (node == null || !node.isObject()) {
            reject(ctx, Reason.INVALID_JSON, "customer record is not a JSON object", raw);
            return;
        }
        String id = text(node, "customer_id");
        if (id == null || id.isBlank()) {
            reject(ctx, Reason.MISSING_FIELD, "customer record without customer_id", raw);
            return;
        }
        out.collect(
                CustomerEvent.profile(
                        new CustomerProfile(
                                id,
                                text(node, "name"),
                                text(node, "tier"),
                                text(node, "plan"),
                                text(node, "language"))));
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static void reject(Context ctx, Reason reason, String detail, RawCustomer raw) {
        ctx.output(
                DeadLetter.OUTPUT_TAG,
                DeadLetter.ofRaw(
                        reason, detail, null, null, raw.asRaw(), System.currentTimeMillis()));
    }
}
