package dev.triage.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.records.CustomerEvent;
import dev.triage.records.OutcomeDeserializer;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.util.ArrayList;
import java.util.List;

/**
 * The results topic read back for the customers' history: whatever the bytes, no exception and at
 * most one outcome, for a customer and a ticket.
 */
class OutcomeDeserializerFuzzTest {

    private final OutcomeDeserializer deserializer = new OutcomeDeserializer();

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) throws Exception {
        List<CustomerEvent> out = new ArrayList<>();
        Collector<CustomerEvent> collector =
                new Collector<>() {
                    @Override
                    public void collect(CustomerEvent e) {
                        out.add(e);
                    }

                    @Override
                    public void close() {}
                };
        deserializer.deserialize(new ConsumerRecord<>("results", 0, 1L, null, data), collector);

        assertThat(out).hasSizeLessThanOrEqualTo(1);
        for (CustomerEvent e : out) {
            assertThat(e.customerId()).isNotBlank();
            assertThat(e.outcome()).isNotNull();
            assertThat(e.outcome().ticketId()).isNotNull();
        }
    }
}
