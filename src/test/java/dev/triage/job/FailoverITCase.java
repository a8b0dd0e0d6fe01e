package dev.triage.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.llm.OpenAiChatClient;
import dev.triage.records.RawTicket;
import dev.triage.testing.TriageStack;
import dev.triage.tools.verify.OutputVerifier;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * Nothing lost, nothing twice: the job fails at random points (exceptions thrown inside the
 * pipeline, and a TaskManager lost) while thousands of tickets flow. The committed output must be
 * exactly one result per ticket, in session order, with continuous turns and full history, and the
 * model may be asked again only about the tickets that were in flight at each failure.
 */
class FailoverITCase {

    private static final int SESSIONS = 300;
    private static final int TURNS = 10;
    private static final int MAX_IN_FLIGHT = 16;
    private static final int PARALLELISM = 2;
    private static final int HISTORY_TURNS = 6;
    private static final long CHECKPOINT_MS = 500;

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(2)
                            .setNumberSlotsPerTaskManager(2)
                            .setConfiguration(clusterConfig())
                            .build());

    /**
     * Throws once when the count of tickets passing (over all subtasks and restarts) hits a mark.
     */
    static final class FailAtCounts implements MapFunction<RawTicket, RawTicket> {
        static final AtomicLong SEEN = new AtomicLong();
        static final Set<Long> MARKS = Set.of(700L, 1600L, 2500L);

        @Override
        public RawTicket map(RawTicket value) {
            if (MARKS.contains(SEEN.incrementAndGet())) {
                throw new IllegalStateException("injected failure at ticket " + SEEN.get());
            }
            return value;
        }
    }

    @Test
    void exactlyOnceInOrderWithHistoryAcrossFailures(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        try (TriageStack stack = TriageStack.start(40)) {
            Configuration settings =
                    stack.settings(
                            "session.max-in-flight: " + MAX_IN_FLIGHT,
                            "session.history-turns: " + HISTORY_TURNS,
                            "job.parallelism: " + PARALLELISM);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.enableCheckpointing(CHECKPOINT_MS);
            TriageJob.configure(env, settings);
            TriageWorkflow.define(
                    TriageWorkflow.Sources.ticketsOnly(
                            env.fromSource(
                                            KafkaConnectors.ticketSource(settings),
                                            WatermarkStrategy.noWatermarks(),
                                            "tickets")
                                    .uid(TriageWorkflow.SOURCE_UID)
                                    .map(new FailAtCounts())
                                    .uid("failure-injector")),
                    TriageJob.sinks(settings),
                    TriageWorkflow.Settings.from(settings),
                    OpenAiChatClient.FACTORY);
            JobClient job = env.executeAsync("failover-it");
            waitUntilRunning(job);

            List<String> sessions =
                    IntStream.rangeClosed(1, SESSIONS)
                            .mapToObj(s -> String.format("F-%03d", s))
                            .toList();
            int expected = SESSIONS * TURNS;
            // Tickets arrive in waves, so that failures hit a stream in motion.
            long start = System.nanoTime();
            boolean taskManagerKilled = false;
            for (int k = 1; k <= TURNS; k++) {
                stack.produce(TriageStack.turns(sessions, k, k));
                Thread.sleep(400);
                if (k == 6) {
                    cluster.terminateTaskManager(0).get();
                    cluster.startTaskManager();
                    taskManagerKilled = true;
                }
            }
            List<String> results = stack.results(expected, Duration.ofMinutes(4));
            double seconds = (System.nanoTime() - start) / 1e9;
            job.cancel().get();

            OutputVerifier.Report report =
                    OutputVerifier.verify(
                            results,
                            stack.kafka.readCommitted("triage-dlq", 0, Duration.ofSeconds(2)));
            int reRequests = stack.reRequests();
            int failures = FailAtCounts.MARKS.size() + (taskManagerKilled ? 1 : 0);
            // After a failure the model is asked again about the tickets in flight at the last
            // completed checkpoint (at most parallelism x max-in-flight) and about those sent since
            // that checkpoint (the source replays them): about throughput x (checkpoint interval
            // + the time to notice the failure and restart), taken generously as 2 s here.
            double perSecond = expected / seconds;
            long boundPerFailure =
                    PARALLELISM * MAX_IN_FLIGHT
                            + Math.round(perSecond * (CHECKPOINT_MS + 2000) / 1000.0);
            int mostAskedTicket =
                    stack.requestsByTicket.values().stream()
                            .mapToInt(q -> q.size())
                            .max()
                            .orElse(0);
            System.out.printf(
                    "Failover ITCase: %d tickets, %d failures (%d injected exceptions + %s TaskManager"
                            + " lost), %.1f s, %s; LLM re-requests %d (%.1f per failure; bound per"
                            + " failure %d = parallelism x max-in-flight + %.0f tickets/s x"
                            + " (checkpoint interval + 2 s)); most calls for one ticket %d%n",
                    expected,
                    failures,
                    FailAtCounts.MARKS.size(),
                    taskManagerKilled ? "1" : "no",
                    seconds,
                    report.summary(),
                    reRequests,
                    reRequests / (double) failures,
                    boundPerFailure,
                    perSecond,
                    mostAskedTicket);

            assertThat(FailAtCounts.SEEN.get()).isGreaterThan(2500L);
            assertThat(report.ok()).as(report.summary()).isTrue();
            assertThat(report.results()).isEqualTo(expected);
            assertThat(report.deadLetters()).isZero();
            assertThat(report.sessions()).isEqualTo(SESSIONS);
            assertThat(stack.requestsByTicket).hasSize(expected);
            assertThat((long) reRequests).isLessThanOrEqualTo(failures * boundPerFailure);
            assertThat(mostAskedTicket).isLessThanOrEqualTo(1 + failures);
            assertThat(reRequests).isLessThan(expected / 2); // a failure never re-asks everything
            assertThat(stack.historyViolations(results, HISTORY_TURNS)).isEmpty();
        }
    }

    static void waitUntilRunning(JobClient job) throws Exception {
        while (job.getJobStatus().get() != JobStatus.RUNNING) {
            Thread.sleep(50);
        }
    }

    private static Configuration clusterConfig() {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 50);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(300));
        return conf;
    }
}
