package dev.triage.records;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.io.IOException;
import java.time.Instant;

/**
 * Reads the job's own results topic back as outcomes for the customers' history: the ticket, its
 * session, category, priority and sentiment. Results without a customer id are skipped; so is
 * anything that is not a result (the topic is the job's own output, not user input).
 */
public class OutcomeDeserializer implements KafkaRecordDeserializationSchema<CustomerEvent> {

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<CustomerEvent> out) {
        if (record.value() == null) {
            return;
        }
        try {
            var r = Json.MAPPER.readTree(record.value());
            String customer = r.path("customer_id").asText(null);
            if (customer == null || customer.isBlank() || !r.hasNonNull("ticket_id")) {
                return;
            }
            long created = 0L;
            if (r.hasNonNull("created_at")) {
                created = Instant.parse(r.get("created_at").asText()).toEpochMilli();
            }
            out.collect(
                    CustomerEvent.outcome(
                            customer,
                            new PastTicket(
                                    r.get("ticket_id").asText(),
                                    r.path("session_id").asText(""),
                                    r.path("category").asText(""),
                                    r.path("priority").asText(""),
                                    r.path("sentiment").asText(""),
                                    created)));
        } catch (IOException | RuntimeException e) {
            // not a result of this job: nothing to learn from it
        }
    }

    @Override
    public TypeInformation<CustomerEvent> getProducedType() {
        return TypeInformation.of(CustomerEvent.class);
    }
}
