package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetter.Reason;
import dev.triage.records.TriageResult;

import org.apache.flink.metrics.testutils.MetricListener;
import org.apache.flink.streaming.api.operators.Output;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.LatencyMarker;
import org.apache.flink.streaming.runtime.streamrecord.RecordAttributes;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.util.OutputTag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/** Results on the main output, dead letters on the side output, each counted. */
class ResultEmitterTest {

    private final List<StreamRecord<TriageResult>> results = new ArrayList<>();
    private final List<StreamRecord<?>> sideOutput = new ArrayList<>();
    private final MetricListener listener = new MetricListener();
    private final ResultEmitter emitter =
            new ResultEmitter(
                    new Collecting(),
                    PriorityRules.NONE,
                    new SessionMetrics(listener.getMetricGroup()));

    private static final PendingTicket TICKET =
            new PendingTicket(SessionOperatorTestBase.ticket("S-1", "T-1", "hi"), 2, 400L)
                    .sent(500);

    @Test
    void aResultCarriesTheTicketTheAnswerAndItsCosts() {
        TriageResult r =
                emitter.result(
                        TICKET,
                        SessionOperatorTestBase.answer("billing", "refund"),
                        "m-1",
                        10,
                        5,
                        false,
                        1_400L);
        assertThat(results).hasSize(1);
        assertThat(results.get(0).getValue()).isEqualTo(r);
        assertThat(results.get(0).getTimestamp())
                .as("the ticket's creation time")
                .isEqualTo(1_000L);
        assertThat(r.ticketId()).isEqualTo("T-1");
        assertThat(r.turn()).isEqualTo(2);
        assertThat(r.category()).isEqualTo("billing");
        assertThat(r.attempts()).isEqualTo(1);
        assertThat(r.latencyMs()).isEqualTo(1_000L);
        assertThat(r.cached()).isFalse();
        assertThat(counter("resultsEmitted")).isEqualTo(1);
        assertThat(counter("promptTokens")).isEqualTo(10);
        assertThat(counter("completionTokens")).isEqualTo(5);
        assertThat(listener.getCounter("category", "billing", "results").orElseThrow().getCount())
                .isEqualTo(1);
        assertThat(sideOutput).isEmpty();
    }

    @Test
    void aDeadLetterGoesToTheSideOutputByReason() {
        emitter.giveUp(TICKET.ticket(), OutcomePolicy.backlogFull("S-1", 3), 2_000L);
        assertThat(results).isEmpty();
        assertThat(sideOutput).hasSize(1);
        DeadLetter letter = (DeadLetter) sideOutput.get(0).getValue();
        assertThat(letter.reason()).isEqualTo(Reason.SESSION_BACKLOG_FULL.code);
        assertThat(letter.ticketId()).isEqualTo("T-1");
        assertThat(sideOutput.get(0).getTimestamp()).isEqualTo(2_000L);
        assertThat(counter("deadLetters")).isEqualTo(1);
        assertThat(
                        listener.getCounter("reason", letter.reason(), "deadLetters")
                                .orElseThrow()
                                .getCount())
                .isEqualTo(1);
    }

    private long counter(String name) {
        return listener.getCounter(name).orElseThrow().getCount();
    }

    /** Keeps what the emitter collects. */
    private final class Collecting implements Output<StreamRecord<TriageResult>> {
        @Override
        public void collect(StreamRecord<TriageResult> record) {
            results.add(record);
        }

        @Override
        public <X> void collect(OutputTag<X> tag, StreamRecord<X> record) {
            assertThat(tag).isEqualTo(DeadLetter.OUTPUT_TAG);
            sideOutput.add(record);
        }

        @Override
        public void emitWatermark(Watermark mark) {}

        @Override
        public void emitWatermarkStatus(WatermarkStatus status) {}

        @Override
        public void emitLatencyMarker(LatencyMarker marker) {}

        @Override
        public void emitRecordAttributes(RecordAttributes attributes) {}

        @Override
        public void emitWatermark(org.apache.flink.runtime.event.WatermarkEvent event) {}

        @Override
        public void close() {}
    }
}
