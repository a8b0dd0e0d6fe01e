package dev.triage.ingest;

import dev.triage.io.Json;
import dev.triage.records.CustomerEvent;
import dev.triage.records.CustomerProfile;
import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetter.Reason;
import dev.triage.records.RawCustomer;
import dev.triage.records.Tenants;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.nio.charset.StandardCharsets;

/**
 * Turns records of the compacted customers topic into profile events: a JSON object with at least
 * {@code customer_id} (and optionally {@code name}, {@code tier}, {@code plan}, {@code language}),
 * or a tombstone (null value, the key is the customer id) that deletes the profile. Anything else,
 * a record over the size limit or a field over 256 characters included, goes to the dead-letter
 * topic with the original payload: exactly one outcome per record.
 */
public class CustomerParser extends ProcessFunction<RawCustomer, CustomerEvent> {

    private static final long serialVersionUID = 1L;

    /** Default of {@code customers.max-record-bytes}. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 16 * 1024;

    /** Longest customer id, name, tier, plan or language (characters). */
    static final int MAX_FIELD_LENGTH = 256;

    private final int maxRecordBytes;

    public CustomerParser() {
        this(DEFAULT_MAX_RECORD_BYTES);
    }

    public CustomerParser(int maxRecordBytes) {
        this.maxRecordBytes = maxRecordBytes;
    }

    @Override
    public void processElement(RawCustomer raw, Context ctx, Collector<CustomerEvent> out) {
        try {
            out.collect(parse(raw));
        } catch (TicketParser.Rejected r) {
            ctx.output(
                    DeadLetter.OUTPUT_TAG,
                    DeadLetter.ofRaw(
                            r.reason(),
                            r.getMessage(),
                            null,
                            null,
                            raw.asRaw(),
                            System.currentTimeMillis()));
        }
    }

    /** Parses one record into exactly one event, or says why it is not a customer record. */
    public CustomerEvent parse(RawCustomer raw) throws TicketParser.Rejected {
        if (raw.value() == null) {
            if (raw.key() == null || raw.key().length == 0) {
                throw rejected(Reason.MISSING_FIELD, "customer tombstone without a key");
            }
            String id = new String(raw.key(), StandardCharsets.UTF_8);
            if (id.length() > MAX_FIELD_LENGTH) {
                throw rejected(
                        Reason.INVALID_FIELD,
                        "customer tombstone key is longer than "
                                + MAX_FIELD_LENGTH
                                + " characters");
            }
            return CustomerEvent.deleted(id);
        }
        if (raw.value().length > maxRecordBytes) {
            throw rejected(
                    Reason.TOO_LARGE,
                    "customer record of "
                            + raw.value().length
                            + " bytes exceeds the limit of "
                            + maxRecordBytes);
        }
        String value = DeadLetter.decodeUtf8(raw.value());
        if (value == null) {
            throw rejected(Reason.INVALID_ENCODING, "customer record is not valid UTF-8");
        }
        JsonNode node;
        try {
            node = Json.STRICT.readTree(value); // UTF-8 only, no key twice
        } catch (Exception e) {
            throw rejected(Reason.INVALID_JSON, "customer record is not JSON: " + e.getMessage());
        }
        if (node == null || !node.isObject()) {
            throw rejected(Reason.INVALID_JSON, "customer record is not a JSON object");
        }
        String id = text(node, "customer_id");
        if (id == null || id.isBlank()) {
            throw rejected(Reason.MISSING_FIELD, "customer record without customer_id");
        }
        String tenant = text(node, "tenant_id");
        if (tenant != null && !Tenants.valid(tenant)) {
            throw rejected(
                    Reason.INVALID_FIELD,
                    "customer tenant_id must be 1 to 64 letters, digits, '.', '_' or '-'");
        }
        JsonNode deleted = node.get("deleted");
        if (deleted != null && !deleted.isNull() && !deleted.isBoolean()) {
            throw rejected(Reason.INVALID_FIELD, "customer deleted must be true or false");
        }
        if (deleted != null && deleted.asBoolean(false)) {
            // A tenant's customer is deleted so: a tombstone's key is an id of no tenant.
            return CustomerEvent.deleted(Tenants.key(tenant, id));
        }
        return CustomerEvent.profile(
                Tenants.key(tenant, id),
                new CustomerProfile(
                        id,
                        text(node, "name"),
                        text(node, "tier"),
                        text(node, "plan"),
                        text(node, "language")));
    }

    /** A field's text, at most {@link #MAX_FIELD_LENGTH} characters: it goes into every prompt. */
    private static String text(JsonNode node, String field) throws TicketParser.Rejected {
        JsonNode v = node.get(field);
        String text = v == null || v.isNull() ? null : v.asText();
        if (text != null && text.length() > MAX_FIELD_LENGTH) {
            throw rejected(
                    Reason.INVALID_FIELD,
                    "customer " + field + " is longer than " + MAX_FIELD_LENGTH + " characters");
        }
        // Every field goes into prompts: a line break would forge a prompt line.
        if (text != null && Json.hasControlOrLoneSurrogate(text)) {
            throw rejected(
                    Reason.INVALID_FIELD,
                    "customer " + field + " has a control character or an unpaired surrogate");
        }
        return text;
    }

    private static TicketParser.Rejected rejected(Reason reason, String detail) {
        return new TicketParser.Rejected(reason, detail, null, null);
    }
}
