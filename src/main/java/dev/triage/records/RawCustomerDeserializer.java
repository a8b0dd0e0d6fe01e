package dev.triage.records;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Wraps every record of the customers topic, tombstones included, into a {@link RawCustomer}. */
public class RawCustomerDeserializer implements KafkaRecordDeserializationSchema<RawCustomer> {

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawCustomer> out) {
        out.collect(
                new RawCustomer(
                        record.topic(),
                        record.partition(),
                        record.offset(),
                        record.key(),
                        record.value()));
    }

    @Override
    public TypeInformation<RawCustomer> getProducedType() {
        return TypeInformation.of(RawCustomer.class);
    }
}
