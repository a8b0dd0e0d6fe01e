package dev.triage.tools.bench;

import static dev.triage.config.TriageOptions.LLM_MAX_ATTEMPTS;
import static dev.triage.config.TriageOptions.LLM_RETRY_INITIAL_BACKOFF;
import static dev.triage.config.TriageOptions.LLM_RETRY_MAX_BACKOFF;
import static dev.triage.config.TriageOptions.MAX_BODY_BYTES;
import static dev.triage.config.TriageOptions.MAX_IN_FLIGHT;

import dev.triage.config.LlmSettings;
import dev.triage.config.PromptSettings;
import dev.triage.ingest.TicketParser;
import dev.triage.job.KafkaConnectors;
import dev.triage.prompt.PromptBuilder;
import dev.triage.records.DeadLetter;
import dev.triage.records.RawTicket;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.async.AsyncRetryStrategy;
import org.apache.flink.streaming.util.retryable.AsyncRetryStrategies;
import org.apache.flink.streaming.util.retryable.RetryPredicates;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;

import java.util.concurrent.TimeUnit;

/**
 * The Flink pipelines the benchmark compares this job with. Each reads the same topic with the same
 * Kafka source and ticket parser and writes with the same exactly-once sinks, so only the part
 * between parse and sink differs.
 */
final class BaselineJobs {

    private BaselineJobs() {}

    static void define(Pipeline pipeline, StreamExecutionEnvironment env, Configuration conf) {
        SingleOutputStreamOperator<Ticket> tickets = tickets(env, conf);
        tickets.getSideOutput(DeadLetter.OUTPUT_TAG)
                .sinkTo(KafkaConnectors.deadLetterSink(conf))
                .name("Dead letters to Kafka");
        DataStream<TriageResult> results =
                switch (pipeline) {
                    case ASYNC_UNORDERED, ASYNC_ORDERED -> stockAsync(tickets, conf, pipeline);
                    case SQL_ML_PREDICT -> mlPredict(env, tickets, conf);
                    case PASS_THROUGH ->
                            tickets.map(new PassThroughResult())
                                    .returns(TypeInformation.of(TriageResult.class))
                                    .name("Pass through");
                    default -> throw new IllegalArgumentException(pipeline + " is no baseline job");
                };
        results.sinkTo(KafkaConnectors.resultSink(conf)).name("Results to Kafka");
    }

    private static SingleOutputStreamOperator<Ticket> tickets(
            StreamExecutionEnvironment env, Configuration conf) {
        DataStream<RawTicket> raw =
                env.fromSource(
                        KafkaConnectors.ticketSource(conf),
                        WatermarkStrategy.noWatermarks(),
                        "Tickets from Kafka");
        return raw.process(new TicketParser(conf.get(MAX_BODY_BYTES)))
                .returns(TypeInformation.of(Ticket.class))
                .name("Parse and validate tickets");
    }

    /**
     * Stock Async I/O as its documentation suggests: capacity = this job's calls in flight per
     * subtask, exponential backoff retries up to this job's attempts, a timeout that covers them
     * all. A ticket out of retries or time fails the job (the stock behaviour), which then restarts
     * from its last checkpoint.
     */
    private static DataStream<TriageResult> stockAsync(
            DataStream<Ticket> tickets, Configuration conf, Pipeline pipeline) {
        AsyncRetryStrategy<TriageResult> retry =
                new AsyncRetryStrategies.ExponentialBackoffDelayRetryStrategyBuilder<TriageResult>(
                                conf.get(LLM_MAX_ATTEMPTS) - 1,
                                conf.get(LLM_RETRY_INITIAL_BACKOFF).toMillis(),
                                conf.get(LLM_RETRY_MAX_BACKOFF).toMillis(),
                                2.0)
                        .ifException(RetryPredicates.HAS_EXCEPTION_PREDICATE)
                        .build();
        LlmSettings endpoint = LlmSettings.primary(conf);
        StockAsyncTriage function =
                new StockAsyncTriage(new BaselineTriage(endpoint, PromptSettings.from(conf)));
        int attempts = conf.get(LLM_MAX_ATTEMPTS);
        long timeout =
                attempts * endpoint.requestTimeout().toMillis()
                        + (attempts - 1) * conf.get(LLM_RETRY_MAX_BACKOFF).toMillis();
        int capacity = conf.get(MAX_IN_FLIGHT);
        SingleOutputStreamOperator<TriageResult> out =
                pipeline == Pipeline.ASYNC_ORDERED
                        ? AsyncDataStream.orderedWaitWithRetry(
                                tickets, function, timeout, TimeUnit.MILLISECONDS, capacity, retry)
                        : AsyncDataStream.unorderedWaitWithRetry(
                                tickets, function, timeout, TimeUnit.MILLISECONDS, capacity, retry);
        return out.returns(TypeInformation.of(TriageResult.class)).name(pipeline.label());
    }

    /**
     * Flink SQL's model inference: the tickets as a table, {@code CREATE MODEL} with the openai
     * provider pointed at the simulator, {@code ML_PREDICT} in async mode with this job's calls in
     * flight. The system prompt is this job's, with the answer format in it (the provider has no
     * JSON schema option).
     */
    private static DataStream<TriageResult> mlPredict(
            StreamExecutionEnvironment env, DataStream<Ticket> tickets, Configuration conf) {
        StreamTableEnvironment tables = StreamTableEnvironment.create(env);
        PromptSettings prompt = PromptSettings.from(conf);
        LlmSettings endpoint = LlmSettings.primary(conf);
        DataStream<Row> rows =
                tickets.map(t -> Row.of(t.ticketId(), t.sessionId(), t.customerId(), text(t)))
                        .returns(
                                Types.ROW_NAMED(
                                        new String[] {
                                            "ticket_id", "session_id", "customer_id", "text"
                                        },
                                        Types.STRING,
                                        Types.STRING,
                                        Types.STRING,
                                        Types.STRING))
                        .name("Ticket rows");
        tables.createTemporaryView("tickets", rows);
        tables.executeSql(
                "CREATE MODEL triage INPUT (text STRING) OUTPUT (answer STRING) WITH ("
                        + "'provider' = 'openai', "
                        + "'endpoint' = '"
                        + sql(endpoint.baseUrl().replaceAll("/+$", "") + "/chat/completions")
                        + "', "
                        + "'api-key' = 'bench', "
                        + "'model' = '"
                        + sql(endpoint.model())
                        + "', "
                        + "'response-format' = 'json_object', "
                        + "'system-prompt' = '"
                        + sql(new PromptBuilder(prompt).systemMessage())
                        + "')");
        Table answers =
                tables.sqlQuery(
                        "SELECT ticket_id, session_id, customer_id, answer FROM ML_PREDICT("
                                + "TABLE tickets, MODEL triage, DESCRIPTOR(text), MAP["
                                + "'async', 'true', "
                                + "'output-mode', 'allow_unordered', "
                                + "'max-concurrent-operations', '"
                                + conf.get(MAX_IN_FLIGHT)
                                + "', 'timeout', '"
                                + endpoint.requestTimeout().toSeconds()
                                + "s'])");
        return tables.toDataStream(answers)
                .map(new SqlAnswerToResult(prompt.categories().keySet()))
                .returns(TypeInformation.of(TriageResult.class))
                .name("Answers to results");
    }

    private static String text(Ticket t) {
        return PromptBuilder.ticketText(t);
    }

    private static String sql(String s) {
        return s.replace("'", "''");
    }
}
