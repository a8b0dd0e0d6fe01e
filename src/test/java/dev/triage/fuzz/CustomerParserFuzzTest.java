package dev.triage.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.ingest.CustomerParser;
import dev.triage.ingest.TicketParser;
import dev.triage.records.CustomerEvent;
import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetterSerializer;
import dev.triage.records.RawCustomer;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Records of the compacted customers topic: texts 0 and 1 are the key and the value (absent or
 * U+2400: null, a tombstone). Exactly one outcome per record, and a dead letter always fits.
 */
class CustomerParserFuzzTest {

    private final CustomerParser parser = new CustomerParser(4096);

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) {
        FuzzInputs in = new FuzzInputs(data);
        byte[] key = in.text(0) == null ? null : in.bytes(0);
        byte[] value = in.text(1) == null ? null : in.bytes(1);
        RawCustomer raw = new RawCustomer("customers", 0, 1L, key, value);
        CustomerEvent event;
        try {
            event = parser.parse(raw);
        } catch (TicketParser.Rejected r) {
            assertThat(r.reason()).isNotNull();
            assertThat(r.getMessage()).isNotBlank();
            DeadLetter letter =
                    DeadLetter.ofRaw(r.reason(), r.getMessage(), null, null, raw.asRaw(), 0L);
            FuzzInputs.assertFits(
                    new DeadLetterSerializer("dlq", in.maxRecordBytes).serialize(letter, null, 0L),
                    in.maxRecordBytes);
            return;
        }
        assertThat(event).isNotNull();
        assertThat(event.customerId()).isNotEmpty().hasSizeLessThanOrEqualTo(256);
        if (event.deleted()) {
            assertThat(value).isNull();
        } else {
            assertThat(value).isNotNull().hasSizeLessThanOrEqualTo(4096);
            assertThat(event.profile().customerId()).isNotBlank();
        }
    }
}
