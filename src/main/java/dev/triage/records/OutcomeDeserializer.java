package dev.triage.records;

import dev.triage.io.Json;
import dev.triage.metrics.MetricNames;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import java.io.IOException;
import java.time.Instant;
import java.util.regex.Pattern;

/**
 * Reads the job's own results topic back as outcomes for the customers' history: the ticket, its
 * session, category, priority and sentiment. Results without a customer id are skipped; so is
 * anything that is not a result of this job. The topic is the job's output, but anyone with write
 * access to it can add records, so each is checked as untrusted input: strict JSON (UTF-8, no
 * duplicate keys), ids under the ticket's rules (at most 256 characters, no control characters),
 * labels that are words, and, with a {@link ResultSignature}, the job's signature in the header. A
 * record that fails is no history; the {@value #REJECTED_METRIC} counter says how many.
 */
public class OutcomeDeserializer implements KafkaRecordDeserializationSchema<CustomerEvent> {

    /** Records of the results topic that were not taken as history. */
    public static final String REJECTED_METRIC = MetricNames.HISTORY_RECORDS_REJECTED;

    static final int MAX_ID_LENGTH = 256;

    /** A category, priority or sentiment: a lowercase word, as the answer schema allows. */
    private static final Pattern LABEL = Pattern.compile("[a-z][a-z0-9_-]{0,63}");

    private final ResultSignature signature;
    private transient Counter rejected;

    public OutcomeDeserializer() {
        this(ResultSignature.none());
    }

    public OutcomeDeserializer(ResultSignature signature) {
        this.signature = signature;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) throws Exception {
        signature.checked();
        rejected = context.getMetricGroup().counter(REJECTED_METRIC);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<CustomerEvent> out) {
        if (record.value() == null) {
            return;
        }
        CustomerEvent event = outcome(record);
        if (event == null) {
            rejected().inc();
        } else if (event != SKIPPED) {
            out.collect(event);
        }
    }

    /** A result without a customer: no history, and nothing wrong with it. */
    private static final CustomerEvent SKIPPED = CustomerEvent.outcome("", null);

    private CustomerEvent outcome(ConsumerRecord<byte[], byte[]> record) {
        if (signature.enabled()) {
            Header mac = record.headers().lastHeader(ResultSignature.HEADER);
            if (mac == null || !signature.verifies(record.value(), mac.value())) {
                return null;
            }
        }
        try {
            String text = DeadLetter.decodeUtf8(record.value());
            if (text == null) {
                return null;
            }
            JsonNode r = Json.STRICT.readTree(text);
            if (r == null || !r.isObject()) {
                return null;
            }
            JsonNode customer = r.get("customer_id");
            if (customer == null || customer.isNull()) {
                return SKIPPED;
            }
            String customerId = id(customer);
            String ticketId = id(r.get("ticket_id"));
            String sessionId = id(r.get("session_id"));
            String category = label(r.get("category"));
            String priority = label(r.get("priority"));
            String sentiment = label(r.get("sentiment"));
            if (customerId == null
                    || ticketId == null
                    || sessionId == null
                    || category == null
                    || priority == null
                    || sentiment == null) {
                return null;
            }
            long created = 0L;
            JsonNode createdAt = r.get("created_at");
            if (createdAt != null && !createdAt.isNull()) {
                if (!createdAt.isTextual()) {
                    return null;
                }
                created = Instant.parse(createdAt.asText()).toEpochMilli();
            }
            String tenant = null;
            JsonNode tenantNode = r.get("tenant_id");
            if (tenantNode != null && !tenantNode.isNull()) {
                if (!tenantNode.isTextual() || !Tenants.valid(tenantNode.asText())) {
                    return null;
                }
                tenant = tenantNode.asText();
            }
            return CustomerEvent.outcome(
                    Tenants.key(tenant, customerId),
                    new PastTicket(ticketId, sessionId, category, priority, sentiment, created));
        } catch (IOException | RuntimeException e) {
            return null; // not a result of this job
        }
    }

    private static String id(JsonNode node) {
        if (node == null || !node.isTextual()) {
            return null;
        }
        String text = node.asText();
        return text.isBlank()
                        || text.length() > MAX_ID_LENGTH
                        || Json.hasControlOrLoneSurrogate(text)
                ? null
                : text;
    }

    private static String label(JsonNode node) {
        return node != null && node.isTextual() && LABEL.matcher(node.asText()).matches()
                ? node.asText()
                : null;
    }

    private Counter rejected() {
        if (rejected == null) {
            rejected = new SimpleCounter(); // used without open(), in tests
        }
        return rejected;
    }

    @Override
    public TypeInformation<CustomerEvent> getProducedType() {
        return TypeInformation.of(CustomerEvent.class);
    }
}
