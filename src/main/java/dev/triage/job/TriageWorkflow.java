package dev.triage.job;

import dev.triage.config.GatewaySettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.SessionSettings;
import dev.triage.llm.LlmClientFactory;
import dev.triage.operators.TicketParser;
import dev.triage.records.DeadLetter;
import dev.triage.records.RawTicket;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;
import dev.triage.session.SessionTriageOperatorFactory;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The topology: raw tickets, parsed (bad input to the DLQ), keyed by session, triaged by the
 * per-session LLM operator, results and dead letters to their sinks. Sources and sinks come in as
 * arguments so tests can plug in their own.
 */
public final class TriageWorkflow {

    /** Stable operator ids: savepoints map state by them. Never change them. */
    public static final String SOURCE_UID = "tickets-source";

    public static final String PARSER_UID = "ticket-parser";
    public static final String TRIAGE_UID = "session-triage";
    public static final String RESULTS_SINK_UID = "results-sink";
    public static final String DLQ_SINK_UID = "dlq-sink";

    private TriageWorkflow() {}

    public static void define(
            DataStream<RawTicket> rawTickets,
            Sink<TriageResult> resultSink,
            Sink<DeadLetter> deadLetterSink,
            int maxBodyBytes,
            SessionSettings sessionSettings,
            GatewaySettings gatewaySettings,
            PromptSettings promptSettings,
            LlmClientFactory clientFactory) {

        SingleOutputStreamOperator<Ticket> tickets =
                rawTickets
                        .process(new TicketParser(maxBodyBytes))
                        .returns(TypeInformation.of(Ticket.class))
                        .uid(PARSER_UID)
                        .name("Parse and validate tickets");

        SingleOutputStreamOperator<TriageResult> results =
                tickets.keyBy(Ticket::sessionId, Types.STRING)
                        .transform(
                                "Triage sessions with the LLM",
                                TypeInformation.of(TriageResult.class),
                                new SessionTriageOperatorFactory(
                                        sessionSettings,
                                        gatewaySettings,
                                        promptSettings,
                                        clientFactory))
                        .uid(TRIAGE_UID);

        results.sinkTo(resultSink).uid(RESULTS_SINK_UID).name("Triage results to Kafka");
        tickets.getSideOutput(DeadLetter.OUTPUT_TAG)
                .union(results.getSideOutput(DeadLetter.OUTPUT_TAG))
                .sinkTo(deadLetterSink)
                .uid(DLQ_SINK_UID)
                .name("Dead letters to Kafka");
    }
}
