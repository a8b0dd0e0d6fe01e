package dev.triage.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.testing.MiniClusters;
import dev.triage.testing.TriageStack;
import dev.triage.tools.verify.OutputVerifier;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Stop with a savepoint at parallelism 2 while tickets are in flight, restore at 3, then at 1:
 * every ticket answered exactly once, turns continuous, and histories carried across rescales.
 */
class RescaleITCase {

    private static final int SESSIONS = 150;
    private static final int HISTORY_TURNS = 6;
    private static final int TURNS = 14;

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.rocksDb(2);

    @Test
    void savepointRestoreAtThreeThenOneKeepsEverySession(@TempDir Path savepoints)
            throws Exception {
        try (TriageStack stack = TriageStack.start(250)) {
            List<String> sessions =
                    IntStream.rangeClosed(1, SESSIONS)
                            .mapToObj(s -> String.format("R-%03d", s))
                            .toList();

            // Phase 1 at parallelism 2: turns 1-3 answered; of turns 4-10 some are answered, some
            // in flight and some waiting behind them when the savepoint is taken.
            JobClient job = start(stack, 2, null);
            stack.produce(TriageStack.turns(sessions, 1, 3));
            stack.results(SESSIONS * 3, Duration.ofMinutes(2));
            stack.produce(TriageStack.turns(sessions, 4, 10));
            Thread.sleep(100);
            long t0 = System.nanoTime();
            long before = stack.model.requests();
            String savepoint1 = stop(job, savepoints);
            long sentWhileStopping = stack.model.requests() - before;
            double stopSeconds = (System.nanoTime() - t0) / 1e9;
            int askedBeforeSavepoint = stack.requestsByTicket.size();

            // Phase 2 at parallelism 3: the rest of turns 4-10 resume, then turns 11-12.
            t0 = System.nanoTime();
            job = start(stack, 3, savepoint1);
            double restoreSeconds = (System.nanoTime() - t0) / 1e9;
            stack.produce(TriageStack.turns(sessions, 11, 12));
            stack.results(SESSIONS * 12, Duration.ofMinutes(2));
            before = stack.model.requests();
            String savepoint2 = stop(job, savepoints);
            sentWhileStopping += stack.model.requests() - before;

            // Phase 3 at parallelism 1: turns 13-14.
            job = start(stack, 1, savepoint2);
            stack.produce(TriageStack.turns(sessions, 13, 14));
            List<String> results = stack.results(SESSIONS * TURNS, Duration.ofMinutes(2));
            String savepoint3 = stop(job, savepoints);

            OutputVerifier.Report report =
                    OutputVerifier.verify(
                            results,
                            stack.kafka.readCommitted("triage-dlq", 0, Duration.ofSeconds(1)));
            long stateBytes = sizeOf(Path.of(savepoint3.replace("file:", "")));
            System.out.printf(
                    "Rescale ITCase: %s; %d of %d tickets asked before the first savepoint;"
                            + " stop-with-savepoint %.1f s, restore at parallelism 3 to RUNNING %.1f s;"
                            + " LLM re-requests %d; last savepoint %d bytes = %d bytes per session"
                            + " (history of %d turns)%n",
                    report.summary(),
                    askedBeforeSavepoint,
                    SESSIONS * 10,
                    stopSeconds,
                    restoreSeconds,
                    stack.reRequests(),
                    stateBytes,
                    stateBytes / SESSIONS,
                    HISTORY_TURNS);

            assertThat(report.ok()).as(report.summary()).isTrue();
            assertThat(report.results()).isEqualTo(SESSIONS * TURNS);
            assertThat(askedBeforeSavepoint).isLessThan(SESSIONS * 10); // some were still waiting
            assertThat(stack.requestsByTicket).hasSize(SESSIONS * TURNS);
            assertThat(stack.historyViolations(results, HISTORY_TURNS)).isEmpty();
            // Asked again after a restore: the calls in flight at the savepoint (at most
            // parallelism x max-in-flight: 2 x 64, then 3 x 64) and those sent while the job was
            // stopping, after the savepoint's snapshot; nothing else.
            System.out.printf(
                    "Rescale ITCase: %d requests sent while the two stops were under way%n",
                    sentWhileStopping);
            assertThat(stack.reRequests())
                    .isPositive()
                    .isLessThanOrEqualTo((int) ((2 + 3) * 64 + sentWhileStopping));
        }
    }

    private static JobClient start(TriageStack stack, int parallelism, String savepoint)
            throws Exception {
        Configuration settings =
                stack.settings(
                        "session.history-turns: " + HISTORY_TURNS,
                        "job.parallelism: " + parallelism);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        if (savepoint != null) {
            Configuration restore = new Configuration();
            restore.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
            env.configure(restore);
        }
        env.enableCheckpointing(500);
        TriageJob.build(env, settings);
        JobClient job = env.executeAsync("rescale-it-p" + parallelism);
        FailoverITCase.waitUntilRunning(job);
        return job;
    }

    private static String stop(JobClient job, Path dir) throws Exception {
        return job.stopWithSavepoint(false, dir.toUri().toString(), SavepointFormatType.CANONICAL)
                .get();
    }

    private static long sizeOf(Path dir) throws Exception {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
