package dev.triage.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;
import dev.triage.testing.MiniClusters;
import dev.triage.testing.TriageStack;
import dev.triage.tools.simulator.ProviderProfile;
import dev.triage.tools.verify.OutputVerifier;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

/**
 * The job against a provider that misbehaves the way real ones do: transient faults (5xx, 429 with
 * Retry-After) are retried and never reach the DLQ; permanent ones (401, exhausted quota) reach it
 * once per ticket, with a clear reason, and are not retried.
 */
class ProviderFaultsITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.rocksDb(1);

    @Test
    void transientServerErrorsAreRetriedAndNeverReachTheDeadLetterQueue() throws Exception {
        // 20% of answers are 500, 502 or 503. (A request-rate limit needs the job-wide rate
        // limiter of the next step: without it a 429 storm exhausts the retry budget.)
        try (TriageStack stack =
                TriageStack.start(20, ProviderProfile.NONE.withFaultRates(0.2, 0, 0, 0, 0))) {
            List<String> sessions = sessions("T", 60);
            JobClient job = run(stack, "llm.max-attempts: 12");
            stack.produce(TriageStack.turns(sessions, 1, 10));
            List<String> results = stack.results(600, Duration.ofMinutes(3));
            List<String> dead = stack.kafka.readCommitted("triage-dlq", 0, Duration.ofSeconds(1));
            job.cancel().get();

            OutputVerifier.Report report = OutputVerifier.verify(results, dead);
            long retried = results.stream().filter(r -> attempts(r) > 1).count();
            System.out.printf(
                    "Provider faults ITCase: %s; provider answered %d requests: %d with 5xx, %d with"
                            + " 429; %d tickets needed more than one attempt%n",
                    report.summary(),
                    stack.model.requests(),
                    stack.model.serverErrors(),
                    stack.model.rateLimited(),
                    retried);
            assertThat(report.ok()).as(report.summary()).isTrue();
            assertThat(report.results()).isEqualTo(600);
            assertThat(dead).isEmpty();
            assertThat(stack.model.serverErrors()).isPositive();
            assertThat(retried).isPositive();
        }
    }

    @Test
    void aRateLimitedProviderIsUsedUpToItsLimitWithAlmostNo429s() throws Exception {
        int rpm = 3000; // 50 requests a second, for the provider and for the whole job
        int sessions = 500;
        int tickets = sessions * 2;
        try (TriageStack stack =
                TriageStack.start(20, ProviderProfile.NONE.withRateLimits(rpm, 0, true))) {
            JobClient job = run(stack, "llm.rate-limit.requests-per-minute: " + rpm);
            stack.produce(TriageStack.turns(sessions("L", sessions), 1, 2));
            List<String> results = stack.results(tickets, Duration.ofMinutes(3));
            List<String> dead = stack.kafka.readCommitted("triage-dlq", 0, Duration.ofSeconds(1));
            job.cancel().get();

            // Requests per minute as the provider saw them, first to last request.
            double seconds = (stack.lastRequestNanos.get() - stack.firstRequestNanos.get()) / 1e9;
            double perMinute = (stack.model.requests() - 1) / seconds * 60;
            double share429 = stack.model.rateLimited() / (double) stack.model.requests();
            System.out.printf(
                    "Rate-limited provider ITCase: %d results; the provider saw %.0f requests/minute"
                            + " against a limit of %d (%.2f of it); %d of %d requests got 429"
                            + " (%.2f%%); %d dead letters%n",
                    results.size(),
                    perMinute,
                    rpm,
                    perMinute / rpm,
                    stack.model.rateLimited(),
                    stack.model.requests(),
                    100 * share429,
                    dead.size());
            assertThat(OutputVerifier.verify(results, dead).ok()).isTrue();
            assertThat(results).hasSize(tickets);
            assertThat(dead).isEmpty();
            assertThat(share429).isLessThan(0.01);
            assertThat(perMinute / rpm).isBetween(0.9, 1.1);
        }
    }

    /**
     * A rejected key (401) concerns every request, not one ticket: the endpoint's circuit opens,
     * tickets wait in state (bounded by the backlog) instead of emptying the input into the DLQ,
     * probes go out now and then, one clear ERROR line says what to fix, and the key is shown
     * nowhere. (The harness test {@code
     * SessionTriageOperatorTest#aRejectedKeyWithoutAFallbackMakesTicketsWaitInsteadOfEmptyingTheInputIntoTheDlq}
     * shows the tickets answered once the key works again.)
     */
    @Test
    void aRejectedKeyMakesTicketsWaitWithAClearLogLineAndNeverShowsTheKey(@TempDir Path dir)
            throws Exception {
        String key = "sk-test-SECRET-4242";
        Path keyFile = dir.resolve("api-key");
        Files.writeString(keyFile, key + "\n");
        List<String> log = new CopyOnWriteArrayList<>();
        var logger = (org.apache.logging.log4j.core.Logger) LogManager.getLogger("dev.triage");
        var appender =
                new AbstractAppender("capture", null, null, true, new Property[0]) {
                    @Override
                    public void append(LogEvent event) {
                        log.add(event.getLevel() + " " + event.getMessage().getFormattedMessage());
                    }
                };
        appender.start();
        logger.addAppender(appender);
        try (TriageStack stack =
                TriageStack.start(0, ProviderProfile.NONE.withPermanentFailure("401"))) {
            JobClient job =
                    run(
                            stack,
                            "llm.api-key-file: " + keyFile,
                            "llm.circuit-breaker.max-open-for: 2s");
            stack.produce(TriageStack.turns(sessions("K", 10), 1, 3));
            awaitRequests(stack, 10);
            // Watch for 12 s: a dead letter would arrive within a checkpoint (500 ms).
            List<String> dead = stack.kafka.readCommitted("triage-dlq", 1, Duration.ofSeconds(12));
            List<String> results =
                    stack.kafka.readCommitted("triage-results", 0, Duration.ofSeconds(1));
            long requests = stack.model.requests();
            job.cancel().get();

            assertThat(results).isEmpty();
            assertThat(dead).as("nothing dead-lettered for a key problem").isEmpty();
            // 10 first tickets went out at once; then only probes, about one per subtask every
            // 2 s (llm.circuit-breaker.max-open-for), never a retry storm.
            assertThat(requests).isBetween(10L, 10L + 2 * 8);
            assertThat(log)
                    .anySatisfy(
                            line ->
                                    assertThat(line)
                                            .startsWith("ERROR")
                                            .contains("rejects requests")
                                            .contains("HTTP 401")
                                            .contains("llm.api-key-file"));
            assertThat(log).noneMatch(line -> line.contains(key));
        } finally {
            logger.removeAppender(appender);
        }
    }

    @Test
    void exhaustedQuotaIsNotMistakenForARateLimitAndDoesNotEmptyTheInputIntoTheDlq()
            throws Exception {
        try (TriageStack stack =
                TriageStack.start(0, ProviderProfile.NONE.withPermanentFailure("quota"))) {
            JobClient job = run(stack, "llm.circuit-breaker.max-open-for: 2s");
            stack.produce(TriageStack.turns(sessions("Q", 5), 1, 2));
            awaitRequests(stack, 5);
            List<String> dead = stack.kafka.readCommitted("triage-dlq", 1, Duration.ofSeconds(10));
            long requests = stack.model.requests();
            job.cancel().get();

            assertThat(dead).isEmpty();
            // Not retried like a 429 storm: the first tickets, then one probe per subtask at a
            // time.
            assertThat(requests).isBetween(5L, 5L + 2 * 7);
        }
    }

    /**
     * Runs the job against the stack at parallelism 2, 16 calls in flight per subtask, fast
     * retries, checkpoints every {@code checkpointMs}; {@code extra} settings override.
     */
    static JobClient run(TriageStack stack, String name, long checkpointMs, String... extra)
            throws Exception {
        String[] lines = new String[extra.length + 4];
        lines[0] = "job.parallelism: 2";
        lines[1] = "session.max-in-flight: 16";
        lines[2] = "llm.retry.initial-backoff: 50ms";
        lines[3] = "llm.retry.max-backoff: 1s";
        System.arraycopy(extra, 0, lines, 4, extra.length);
        Configuration settings = stack.settings(lines);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(checkpointMs);
        TriageJob.build(env, settings);
        JobClient job = env.executeAsync(name);
        FailoverITCase.waitUntilRunning(job);
        return job;
    }

    private static JobClient run(TriageStack stack, String... extra) throws Exception {
        return run(stack, "provider-faults-it", 500, extra);
    }

    /** Waits (up to a minute) until the model has received at least {@code n} requests. */
    private static void awaitRequests(TriageStack stack, long n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (stack.model.requests() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the model got " + stack.model.requests() + " requests");
            }
            Thread.sleep(50);
        }
    }

    private static List<String> sessions(String prefix, int n) {
        return IntStream.rangeClosed(1, n)
                .mapToObj(s -> String.format("%s-%03d", prefix, s))
                .toList();
    }

    private static int attempts(String result) {
        try {
            return Json.MAPPER.readTree(result).get("attempts").asInt();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
