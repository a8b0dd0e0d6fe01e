package dev.triage.job;

import static dev.triage.config.TriageOptions.*;

import dev.triage.config.CustomerSettings;
import dev.triage.config.GatewaySettings;
import dev.triage.config.JobSettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.SessionSettings;
import dev.triage.ingest.TicketParser;
import dev.triage.llm.OpenAiChatClient;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.time.Clock;

/**
 * Entry point for {@code flink run}: {@code flink run triage.jar jobs/local.yaml [key=value ...]}.
 * Only wires: settings in, Kafka source and sinks, the workflow.
 */
public final class TriageJob {

    private TriageJob() {}

    public static void main(String[] args) throws Exception {
        Configuration conf = JobSettings.fromArgs(args);
        KafkaConnectors.checkBeforeSubmission(conf);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        build(env, conf);
        env.execute(conf.get(JOB_NAME));
    }

    /** Defines the whole job on {@code env} from the settings: Kafka in, triage, Kafka out. */
    public static void build(StreamExecutionEnvironment env, Configuration conf) {
        configure(env, conf);
        CustomerSettings customers = CustomerSettings.from(conf);
        TriageWorkflow.define(
                env.fromSource(
                                KafkaConnectors.ticketSource(conf),
                                WatermarkStrategy.noWatermarks(),
                                "Tickets from Kafka")
                        .uid(TriageWorkflow.SOURCE_UID),
                customers.enabled()
                        ? env.fromSource(
                                        KafkaConnectors.customerSource(conf),
                                        WatermarkStrategy.noWatermarks(),
                                        "Customer profiles from Kafka")
                                .uid(TriageWorkflow.CUSTOMERS_SOURCE_UID)
                        : null,
                customers.enabled()
                        ? env.fromSource(
                                        KafkaConnectors.outcomeSource(conf),
                                        WatermarkStrategy.noWatermarks(),
                                        "Earlier results from Kafka")
                                .uid(TriageWorkflow.OUTCOMES_SOURCE_UID)
                        : null,
                KafkaConnectors.resultSink(conf),
                KafkaConnectors.deadLetterSink(conf),
                ticketParser(conf),
                SessionSettings.from(conf),
                GatewaySettings.from(conf),
                PromptSettings.from(conf),
                customers,
                OpenAiChatClient.FACTORY);
    }

    /** The ticket parser as the settings configure it. */
    public static TicketParser ticketParser(Configuration conf) {
        return new TicketParser(
                conf.get(MAX_BODY_BYTES), conf.get(TICKET_MAX_FUTURE_SKEW), Clock.systemUTC());
    }

    /** Job-level settings that belong to this job rather than to the cluster. */
    public static void configure(StreamExecutionEnvironment env, Configuration conf) {
        env.setMaxParallelism(conf.get(MAX_PARALLELISM));
        if (conf.get(PARALLELISM) > 0) {
            env.setParallelism(conf.get(PARALLELISM));
        }
        // Every record type has explicit type information; fail instead of falling back to Kryo.
        Configuration pipeline = new Configuration();
        pipeline.set(PipelineOptions.GENERIC_TYPES, false);
        // Every record type is an immutable Java record, and no function keeps or changes what
        // it is given, so chained operators can hand records on without a copy (unless the
        // cluster says otherwise).
        if (!env.getConfiguration().getOptional(PipelineOptions.OBJECT_REUSE).isPresent()) {
            pipeline.set(PipelineOptions.OBJECT_REUSE, true);
        }
        env.configure(pipeline);
        if (!env.getCheckpointConfig().isCheckpointingEnabled()) {
            env.enableCheckpointing(conf.get(FALLBACK_CHECKPOINT_INTERVAL).toMillis());
        }
        // During a provider outage longer than the backlog lasts, the triage operator holds its
        // input, and with it the checkpoint barrier, until the provider is back: checkpoints time
        // out meanwhile. Failing over for that would restart into the same outage and burst every
        // restored call at the provider, so such failures are tolerated unless the cluster
        // configures a number itself (docs/design.md, "Outages").
        if (!env.getConfiguration()
                .getOptional(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER)
                .isPresent()) {
            env.getCheckpointConfig().setTolerableCheckpointFailureNumber(Integer.MAX_VALUE);
        }
    }
}
