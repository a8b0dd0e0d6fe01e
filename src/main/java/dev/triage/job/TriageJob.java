package dev.triage.job;

import static dev.triage.config.TriageOptions.*;

import dev.triage.config.JobSettings;
import dev.triage.llm.OpenAiChatClient;
import dev.triage.records.RawTicket;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Entry point for {@code flink run}: {@code flink run triage.jar jobs/local.yaml [key=value ...]}.
 * {@code main} only wires: settings in, then {@link #runJob}, which defines the Kafka sources and
 * sinks around the workflow and runs it.
 */
public final class TriageJob {

    private TriageJob() {}

    public static void main(String[] args) throws Exception {
        runJob(JobSettings.fromArgs(args), StreamExecutionEnvironment.getExecutionEnvironment());
    }

    /** Checks what only the cluster can tell, then defines the job on {@code env} and runs it. */
    static JobExecutionResult runJob(Configuration conf, StreamExecutionEnvironment env)
            throws Exception {
        KafkaConnectors.checkBeforeSubmission(conf);
        build(env, conf);
        return env.execute(conf.get(JOB_NAME));
    }

    /** Defines the whole job on {@code env} from the settings: Kafka in, triage, Kafka out. */
    public static void build(StreamExecutionEnvironment env, Configuration conf) {
        configure(env, conf);
        TriageWorkflow.Settings settings = TriageWorkflow.Settings.from(conf);
        TriageWorkflow.define(
                sources(env, conf, settings.customers().enabled()),
                sinks(conf),
                settings,
                OpenAiChatClient.FACTORY);
    }

    /** The Kafka sources, with the customer topics when the customer-context join is on. */
    static TriageWorkflow.Sources sources(
            StreamExecutionEnvironment env, Configuration conf, boolean withCustomers) {
        DataStream<RawTicket> tickets =
                env.fromSource(
                                KafkaConnectors.ticketSource(conf),
                                WatermarkStrategy.noWatermarks(),
                                "Tickets from Kafka")
                        .uid(TriageWorkflow.SOURCE_UID);
        if (!withCustomers) {
            return TriageWorkflow.Sources.ticketsOnly(tickets);
        }
        return TriageWorkflow.Sources.withCustomers(
                tickets,
                env.fromSource(
                                KafkaConnectors.customerSource(conf),
                                WatermarkStrategy.noWatermarks(),
                                "Customer profiles from Kafka")
                        .uid(TriageWorkflow.CUSTOMERS_SOURCE_UID),
                env.fromSource(
                                KafkaConnectors.outcomeSource(conf),
                                WatermarkStrategy.noWatermarks(),
                                "Earlier results from Kafka")
                        .uid(TriageWorkflow.OUTCOMES_SOURCE_UID));
    }

    /** The exactly-once Kafka sinks. */
    static TriageWorkflow.Sinks sinks(Configuration conf) {
        return new TriageWorkflow.Sinks(
                KafkaConnectors.resultSink(conf), KafkaConnectors.deadLetterSink(conf));
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
