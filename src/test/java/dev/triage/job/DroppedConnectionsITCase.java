package dev.triage.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;
import dev.triage.testing.MiniClusters;
import dev.triage.testing.TriageStack;
import dev.triage.tools.simulator.ProviderProfile;
import dev.triage.tools.verify.OutputVerifier;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * The proxy that drops 10% of the POSTs after reading them: every POST the provider
 * received is an attempt the job counted (the HTTP client re-sends nothing by itself), and every
 * ticket has exactly one outcome.
 */
class DroppedConnectionsITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.rocksDb(1);

    private static final Pattern ATTEMPTS = Pattern.compile("after (\\d+) call");

    @Test
    void everyPostTheProviderReceivedIsACountedAttempt() throws Exception {
        int sessions = 60;
        int turns = 10;
        int tickets = sessions * turns;
        try (TriageStack stack = TriageStack.start(20, ProviderProfile.NONE.withDropRate(0.1))) {
            List<String> ids =
                    IntStream.rangeClosed(1, sessions)
                            .mapToObj(s -> String.format("D-%03d", s))
                            .toList();
            JobClient job =
                    ProviderFaultsITCase.run(
                            stack, "dropped-connections-it", 500, "llm.max-attempts: 12");
            stack.produce(TriageStack.turns(ids, 1, turns));
            List<String> results = stack.results(tickets, Duration.ofMinutes(3));
            List<String> dead = stack.kafka.readCommitted("triage-dlq", 0, Duration.ofSeconds(1));
            job.cancel().get();

            OutputVerifier.Report report = OutputVerifier.verify(results, dead);
            long attempts = 0;
            for (String r : results) {
                attempts += Json.MAPPER.readTree(r).get("attempts").asLong();
            }
            for (String d : dead) {
                JsonNode node = Json.MAPPER.readTree(d);
                Matcher m = ATTEMPTS.matcher(node.path("detail").asText());
                attempts += m.find() ? Long.parseLong(m.group(1)) : 0;
            }
            System.out.printf(
                    "Dropped connections ITCase: %s; the provider received %d POSTs, dropped %d;"
                            + " results and dead letters count %d attempts%n",
                    report.summary(), stack.model.requests(), stack.model.dropped(), attempts);
            assertThat(report.ok()).as(report.summary()).isTrue();
            assertThat(results.size() + dead.size()).isEqualTo(tickets);
            assertThat(dead).isEmpty();
            assertThat(stack.model.dropped()).isPositive();
            assertThat(stack.model.requests()).isEqualTo(attempts);
        }
    }
}
