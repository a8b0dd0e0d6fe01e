package dev.triage.session;

import dev.triage.io.Json;
import dev.triage.llm.TriageAnswer;
import dev.triage.records.DeadLetter;
import dev.triage.records.DraftReplyFlags;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;

import org.apache.flink.streaming.api.operators.Output;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * The operator's outputs: results (stamped with the ticket's creation time) and dead letters on
 * their side output, each counted in {@link SessionMetrics} (a sink, like the output) and traced on
 * the {@code dev.triage.trace} logger, which is off unless set to INFO (see
 * flink-conf/log4j.properties).
 */
final class ResultEmitter {

    private static final org.slf4j.Logger LOG =
            org.slf4j.LoggerFactory.getLogger(SessionTriageOperator.class);

    private static final org.slf4j.Logger TRACE =
            org.slf4j.LoggerFactory.getLogger("dev.triage.trace");

    private final Output<StreamRecord<TriageResult>> output;
    private final PriorityRules priorityRules;
    private final SessionMetrics metrics;

    ResultEmitter(
            Output<StreamRecord<TriageResult>> output,
            PriorityRules priorityRules,
            SessionMetrics metrics) {
        this.output = output;
        this.priorityRules = priorityRules;
        this.metrics = metrics;
    }

    /** Emits the ticket's result at {@code now}; {@code cached}: from the incident cache. */
    TriageResult result(
            PendingTicket current,
            TriageAnswer answer,
            String model,
            int promptTokens,
            int completionTokens,
            boolean cached,
            long now) {
        Ticket ticket = current.ticket();
        var result =
                new TriageResult(
                        ticket.ticketId(),
                        ticket.sessionId(),
                        ticket.customerId(),
                        current.turn(),
                        answer.category(),
                        priorityRules.apply(
                                answer.priority(),
                                answer.sentiment(),
                                ticket.customer(),
                                ticket.createdAt()),
                        answer.sentiment(),
                        answer.summary(),
                        answer.draftReply(),
                        answer.confidence(),
                        model,
                        current.attempts(),
                        promptTokens,
                        completionTokens,
                        ticket.createdAt(),
                        now,
                        Math.max(0, now - current.acceptedAt()),
                        cached,
                        DraftReplyFlags.forTicket(answer.draftReply(), ticket),
                        ticket.tenantId());
        output.collect(new StreamRecord<>(result, ticket.createdAt()));
        metrics.resultEmitted(result);
        if (TRACE.isInfoEnabled()) {
            TRACE.info(
                    "ticket={} session={} turn={} outcome={} category={} attempts={} latency_ms={}",
                    ticket.ticketId(),
                    ticket.sessionId(),
                    current.turn(),
                    cached ? "cached" : "answered",
                    result.category(),
                    current.attempts(),
                    result.latencyMs());
        }
        return result;
    }

    /** Dead-letters the ticket as the policy decided, with a warning when it is loud. */
    void giveUp(Ticket ticket, OutcomePolicy.GiveUp giveUp, long now) {
        if (giveUp.loud()) {
            LOG.warn(
                    "Ticket {} of session {} goes to the DLQ: {}",
                    Json.forLog(ticket.ticketId()),
                    Json.forLog(ticket.sessionKey()),
                    Json.forLog(giveUp.detail()));
        }
        deadLetter(
                DeadLetter.ofTicket(
                        giveUp.reason(), giveUp.detail(), ticket, giveUp.rawAnswer(), now));
    }

    private void deadLetter(DeadLetter letter) {
        output.collect(DeadLetter.OUTPUT_TAG, new StreamRecord<>(letter, letter.failedAt()));
        metrics.deadLettered(letter);
        if (TRACE.isInfoEnabled()) {
            TRACE.info(
                    "ticket={} session={} outcome=dead_letter reason={} detail=\"{}\"",
                    letter.ticketId(),
                    letter.sessionId(),
                    letter.reason(),
                    letter.detail());
        }
    }
}
