package dev.triage.job;

import static dev.triage.config.TriageOptions.MAX_BODY_BYTES;
import static dev.triage.config.TriageOptions.TICKET_MAX_FUTURE_SKEW;

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
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

import java.time.Clock;
import java.util.Objects;
import java.util.Optional;

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
    public static final String CUSTOMERS_SOURCE_UID = "customers-source";
    public static final String CUSTOMER_PARSER_UID = "customer-parser";
    public static final String OUTCOMES_SOURCE_UID = "outcomes-source";
    public static final String ENRICHER_UID = "customer-enricher";

    private TriageWorkflow() {}

    /**
     * What the workflow reads: raw tickets and, for the customer-context join, the customers'
     * profiles and their earlier results.
     */
    public record Sources(DataStream<RawTicket> tickets, Optional<CustomerSources> customers) {

        public Sources {
            Objects.requireNonNull(tickets, "tickets");
            Objects.requireNonNull(customers, "customers (Optional.empty(): no customer context)");
        }

        /** Tickets only: no customer-context join. */
        public static Sources ticketsOnly(DataStream<RawTicket> tickets) {
            return new Sources(tickets, Optional.empty());
        }

        /** Tickets joined with the customers' profiles and earlier results. */
        public static Sources withCustomers(
                DataStream<RawTicket> tickets,
                DataStream<RawCustomer> profiles,
                DataStream<CustomerEvent> outcomes) {
            return new Sources(tickets, Optional.of(new CustomerSources(profiles, outcomes)));
        }
    }

    /** The two inputs of the customer-context join, present together or not at all. */
    public record CustomerSources(
            DataStream<RawCustomer> profiles, DataStream<CustomerEvent> outcomes) {

        public CustomerSources {
            Objects.requireNonNull(profiles, "profiles");
            Objects.requireNonNull(outcomes, "outcomes");
        }
    }

    /** Where the workflow writes: results, and every input it could not triage. */
    public record Sinks(Sink<TriageResult> results, Sink<DeadLetter> deadLetters) {

        public Sinks {
            Objects.requireNonNull(results, "results");
            Objects.requireNonNull(deadLetters, "deadLetters");
        }
    }

    /** How the workflow triages: the typed settings of each of its operators. */
    public record Settings(
            TicketParser ticketParser,
            SessionSettings session,
            GatewaySettings gateway,
            PromptSettings prompt,
            CustomerSettings customers) {

        /** Every setting as the job's options configure it; tickets are dated by the UTC clock. */
        public static Settings from(ReadableConfig conf) {
            return new Settings(
                    new TicketParser(
                            conf.get(MAX_BODY_BYTES),
                            conf.get(TICKET_MAX_FUTURE_SKEW),
                            Clock.systemUTC()),
                    SessionSettings.from(conf),
                    GatewaySettings.from(conf),
                    PromptSettings.from(conf),
                    CustomerSettings.from(conf));
        }
    }

    /**
     * The topology. With customer sources, tickets with a customer id first pass the
     * customer-context join, keyed by customer; tickets without one go straight on. Then everything
     * is keyed by session and triaged with the clients {@code clientFactory} opens.
     */
    public static void define(
            Sources sources, Sinks sinks, Settings settings, LlmClientFactory clientFactory) {
        CustomerSettings customerSettings = settings.customers();
        SingleOutputStreamOperator<Ticket> tickets =
                sources.tickets()
                        .process(settings.ticketParser())
                        .returns(TypeInformation.of(Ticket.class))
                        .uid(PARSER_UID)
                        .name("Parse and validate tickets");
        DataStream<DeadLetter> deadLetters = tickets.getSideOutput(DeadLetter.OUTPUT_TAG);

        DataStream<Ticket> toTriage = tickets;
        if (sources.customers().isPresent()) {
            CustomerSources customers = sources.customers().get();
            SingleOutputStreamOperator<CustomerEvent> profiles =
                    customers
                            .profiles()
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
                                    profiles.union(customers.outcomes())
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
                                        settings.session(),
                                        settings.gateway(),
                                        settings.prompt(),
                                        PriorityRules.from(
                                                sources.customers().isPresent()
                                                        ? customerSettings
                                                        : CustomerSettings.disabled()),
                                        clientFactory))
                        .uid(TRIAGE_UID);

        results.sinkTo(sinks.results()).uid(RESULTS_SINK_UID).name("Triage results to Kafka");
        deadLetters
                .union(results.getSideOutput(DeadLetter.OUTPUT_TAG))
                .sinkTo(sinks.deadLetters())
                .uid(DLQ_SINK_UID)
                .name("Dead letters to Kafka");
    }
}
