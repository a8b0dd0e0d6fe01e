package dev.triage.tools.bench;

import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;

import org.apache.flink.api.common.functions.MapFunction;

/** The floor: a ticket becomes a result without a model call. */
final class PassThroughResult implements MapFunction<Ticket, TriageResult> {

    private static final long serialVersionUID = 1L;

    @Override
    public TriageResult map(Ticket t) {
        long now = System.currentTimeMillis();
        return new TriageResult(
                t.ticketId(),
                t.sessionId(),
                t.customerId(),
                0,
                "other",
                "normal",
                "neutral",
                "",
                "",
                0.0,
                "none",
                0,
                0,
                0,
                t.createdAt(),
                now,
                0,
                false);
    }
}
