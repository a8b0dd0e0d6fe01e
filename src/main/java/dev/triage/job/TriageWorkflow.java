package dev.triage.job;

import dev.triage.config.CustomerSettings;
import dev.triage.config.GatewaySettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.SessionSettings;
import dev.triage.ingest.CustomerEnricher;
import dev.triage.ingest.CustomerParser;
import dev.triage.ingest.TicketParser;
import dev.triage.llm.LlmClientFactory;
import dev.triage.records.CustomerEvent;
import dev.triage.records.DeadLetter;
import dev.triage.records.RawCustomer;
import dev.triage.records.RawTicket;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;
import dev.triage.session.PriorityRules;
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

    public static final String CUSTOMERS_SOURCE_UID = "customers-source";
    public static final String CUSTOMER_PARSER_UID = "customer-parser";
    public static final String OUTCOMES_SOURCE_UID = "outcomes-source";
    public static final String ENRICHER_UID = "customer-enricher";

    /** The topology without the customer-context join. */
    public static void define(
            DataStream<RawTicket> rawTickets,
            Sink<TriageResult> resultSink,
            Sink<DeadLetter> deadLetterSink,
            TicketParser ticketParser,
            SessionSettings sessionSettings,
            GatewaySettings gatewaySettings,
            PromptSettings promptSettings,
            LlmClientFactory clientFactory) {
        define(
                rawTickets,
                null,
                null,
                resultSink,
                deadLetterSink,
                ticketParser,
                sessionSettings,
                gatewaySettings,
                promptSettings,
                CustomerSettings.disabled(),
                clientFactory);
    }

    /**
     * The topology. With {@code rawCustomers} and {@code outcomes} (null: no customer context),
     * tickets with a customer id first pass the customer-context join, keyed by customer; tickets
     * without one go straight on. Then everything is keyed by session.
     */
    public static void define(
            DataStream<RawTicket> rawTickets,
            DataStream<RawCustomer> rawCustomers,
            DataStream<CustomerEvent> outcomes,
            Sink<TriageResult> resultSink,
            Sink<DeadLetter> deadLetterSink,
            TicketParser ticketParser,
            SessionSettings sessionSettings,
            GatewaySettings gatewaySettings,
            PromptSettings promptSettings,
            CustomerSettings customerSettings,
            LlmClientFactory clientFactory) {

        SingleOutputStreamOperator<Ticket> tickets =
                rawTickets
                        .process(ticketParser)
                        .returns(TypeInformation.of(Ticket.class))
                        .uid(PARSER_UID)
                        .name("Parse and validate tickets");
        DataStream<DeadLetter> deadLetters = tickets.getSideOutput(DeadLetter.OUTPUT_TAG);

        DataStream<Ticket> toTriage = tickets;
        if (rawCustomers != null && outcomes != null) {
            SingleOutputStreamOperator<CustomerEvent> profiles =
                    rawCustomers
                            .process(new CustomerParser(customerSettings.maxRecordBytes()))
                            .returns(TypeInformation.of(CustomerEvent.class))
                            .uid(CUSTOMER_PARSER_UID)
                            .name("Parse customer profiles");
            deadLetters = deadLetters.union(profiles.getSideOutput(DeadLetter.OUTPUT_TAG));
            DataStream<Ticket> enriched =
                    tickets.filter(t -> t.customerId() != null && !t.customerId().isBlank())
                            .name("Tickets with a customer")
                            .keyBy(Ticket::customerKey, Types.STRING)
                            .connect(
                                    profiles.union(outcomes)
                                            .keyBy(CustomerEvent::customerId, Types.STRING))
                            .process(new CustomerEnricher(customerSettings))
                            .returns(TypeInformation.of(Ticket.class))
                            .uid(ENRICHER_UID)
                            .name("Join customer context");
            toTriage =
                    enriched.union(
                            tickets.filter(t -> t.customerId() == null || t.customerId().isBlank())
                                    .name("Tickets without a customer"));
        }

        SingleOutputStreamOperator<TriageResult> results =
                toTriage.keyBy(Ticket::sessionKey, Types.STRING)
                        .transform(
                                "Triage sessions with the LLM",
                                TypeInformation.of(TriageResult.class),
                                new SessionTriageOperatorFactory(
                                        sessionSettings,
                                        gatewaySettings,
                                        promptSettings,
                                        PriorityRules.from(customerSettings),
                                        clientFactory))
                        .uid(TRIAGE_UID);

        results.sinkTo(resultSink).uid(RESULTS_SINK_UID).name("Triage results to Kafka");
        deadLetters
                .union(results.getSideOutput(DeadLetter.OUTPUT_TAG))
                .sinkTo(deadLetterSink)
                .uid(DLQ_SINK_UID)
                .name("Dead letters to Kafka");
    }
}
