package dev.triage.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;
import dev.triage.prompt.TicketBlock;
import dev.triage.testing.MiniClusters;
import dev.triage.testing.TriageStack;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.AbstractMap.SimpleEntry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The customer-context join in the real pipeline: profiles from the compacted customers topic, a
 * profile that arrives after its ticket, one that never does, the customer's earlier tickets read
 * back from the results topic, the priority rule for a high tier, and a bad profile record.
 */
class CustomerContextITCase {

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.rocksDb(1);

    @Test
    void profilesAndHistoryReachThePromptAndALateProfileIsHandledAsDocumented() throws Exception {
        Path historyKey = Files.createTempFile("history", ".key");
        Files.write(historyKey, new SecureRandom().generateSeed(32));
        try (TriageStack stack = TriageStack.start(0)) {
            Configuration settings =
                    stack.settings(
                            "job.parallelism: 2",
                            "customers.profile-wait: 3s",
                            "customers.high-tiers: gold",
                            "customers.history-key-file: " + historyKey);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.enableCheckpointing(500);
            TriageJob.build(env, settings);
            JobClient job = env.executeAsync("customer-context-it");
            FailoverITCase.waitUntilRunning(job);

            profile(
                    stack,
                    "C-GOLD",
                    "{\"customer_id\":\"C-GOLD\",\"name\":\"Ada\",\"tier\":\"gold\",\"plan\":\"pro\",\"language\":\"en\"}");
            profile(stack, "C-BAD", "not json");
            Thread.sleep(1000);
            ticket(stack, "S-GOLD", "T-G1", "C-GOLD", "This is unacceptable, my invoice is wrong.");
            ticket(stack, "S-LATE", "T-L1", "C-LATE", "Where is my order?");
            ticket(stack, "S-NONE", "T-N1", "C-NONE", "Where is my parcel?");
            ticket(stack, "S-ANON", "T-A1", null, "Just a question about your prices.");
            Thread.sleep(1000); // the late profile comes one second after its ticket
            profile(
                    stack,
                    "C-LATE",
                    "{\"customer_id\":\"C-LATE\",\"name\":\"Lea\",\"tier\":\"silver\"}");

            List<String> first = stack.results(4, Duration.ofMinutes(1));
            // Someone with write access to the results topic forges history for C-GOLD: without
            // the job's signature (header triage-mac) it is not taken as history.
            stack.kafka.produce(
                    "triage-results",
                    List.of(
                            new SimpleEntry<>(
                                    "S-X",
                                    ("{\"ticket_id\":\"T-FORGED\",\"session_id\":\"S-X\","
                                                    + "\"customer_id\":\"C-GOLD\","
                                                    + "\"category\":\"billing\","
                                                    + "\"priority\":\"urgent\","
                                                    + "\"sentiment\":\"negative\"}")
                                            .getBytes(StandardCharsets.UTF_8))));
            Thread.sleep(2000); // the results are read back as the customers' history
            ticket(stack, "S-GOLD-2", "T-G2", "C-GOLD", "Any news about my invoice?");
            List<String> all = stack.results(6, Duration.ofMinutes(1));
            List<String> dead = stack.kafka.readCommitted("triage-dlq", 1, Duration.ofSeconds(30));
            job.cancel().get();

            Map<String, JsonNode> byId = new HashMap<>();
            for (String r : all) {
                JsonNode n = Json.MAPPER.readTree(r);
                byId.put(n.get("ticket_id").asText(), n);
            }
            assertThat(first).hasSize(4);
            assertThat(byId).containsOnlyKeys("T-G1", "T-L1", "T-N1", "T-A1", "T-G2", "T-FORGED");
            // gold + negative: one level more than the model's "high" (the word "unacceptable")
            assertThat(byId.get("T-G1").get("priority").asText()).isEqualTo("urgent");

            TicketBlock.Customer ada = customer(stack, "T-G1");
            assertThat(List.of(ada.name(), ada.tier(), ada.plan(), ada.language()))
                    .containsExactly("Ada", "gold", "pro", "en");
            assertThat(customer(stack, "T-L1").tier()).isEqualTo("silver");
            TicketBlock.Customer none = customer(stack, "T-N1");
            assertThat(none.customerId()).isEqualTo("C-NONE");
            assertThat(none.profileAvailable()).isFalse();
            assertThat(customer(stack, "T-A1")).isNull();
            TicketBlock.Recent earlier = customer(stack, "T-G2").recentTickets().get(0);
            assertThat(earlier.ticketId()).isEqualTo("T-G1");
            assertThat(earlier.category()).isEqualTo("billing");
            assertThat(customer(stack, "T-G2").recentTickets())
                    .as("the job's own result is history, a forged one is not")
                    .extracting(TicketBlock.Recent::ticketId)
                    .containsExactly("T-G1");
            Files.deleteIfExists(historyKey);

            assertThat(dead).hasSize(1);
            JsonNode letter = Json.MAPPER.readTree(dead.get(0));
            assertThat(letter.get("reason").asText()).isEqualTo("invalid_json");
            assertThat(letter.at("/source/topic").asText()).isEqualTo("customers");
            assertThat(letter.get("payload").asText()).isEqualTo("not json");
        }
    }

    /** The customer in the data block of the ticket's prompt (null: none). */
    private static TicketBlock.Customer customer(TriageStack stack, String ticketId) {
        TicketBlock.Contents block = TicketBlock.read(prompt(stack, ticketId));
        assertThat(block).as(ticketId).isNotNull();
        return block.customer();
    }

    private static String prompt(TriageStack stack, String ticketId) {
        var requests = stack.requestsByTicket.get(ticketId);
        assertThat(requests).as(ticketId).isNotNull();
        JsonNode messages = requests.peek().get("messages");
        return messages.get(messages.size() - 1).get("content").asText();
    }

    private static void profile(TriageStack stack, String id, String json) {
        stack.kafka.produce(
                "customers", List.of(new SimpleEntry<>(id, json.getBytes(StandardCharsets.UTF_8))));
    }

    private static void ticket(
            TriageStack stack, String session, String id, String customer, String body) {
        var node = Json.object();
        node.put("ticket_id", id);
        node.put("session_id", session);
        if (customer != null) {
            node.put("customer_id", customer);
        }
        node.put("body", body);
        stack.produce(
                List.of(
                        new SimpleEntry<>(
                                session, node.toString().getBytes(StandardCharsets.UTF_8))));
    }
}
