package dev.triage.records;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Wraps every consumed record, whatever its bytes, into a {@link RawTicket}; never throws. */
public class RawTicketDeserializer implements KafkaRecordDeserializationSchema<RawTicket> {

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawTicket> out) {
        out.collect(
                new RawTicket(
                        record.topic(),
                        record.partition(),
                        record.offset(),
                        record.timestamp(),
                        record.value()));
    }

    @Override
    public TypeInformation<RawTicket> getProducedType() {
        return TypeInformation.of(RawTicket.class);
    }
}
