package dev.triage.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;
import dev.triage.prompt.TicketBlock;
import dev.triage.testing.EmbeddedKafka;
import dev.triage.testing.MiniClusters;
import dev.triage.testing.TriageStack;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.AbstractMap.SimpleEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;

/**
 * The whole job on a MiniCluster (parallelism 2, RocksDB, checkpoints every second) with a real
 * Kafka broker and the local model server over HTTP: exactly one result or dead letter per input,
 * per-session order, and every request carrying its session's earlier answers.
 */
class TriageJobITCase {

    // Scale and model latency can be raised from the command line to measure throughput, e.g.
    // mvn verify -Dit.test=TriageJobITCase -Dtriage.it.sessions=2000 -Dtriage.it.latencyMs=100
    private static final int SESSIONS = Integer.getInteger("triage.it.sessions", 120);
    private static final int MAX_IN_FLIGHT = Integer.getInteger("triage.it.maxInFlight", 32);
    private static final int TICKETS_PER_SESSION = 10;
    private static final int HISTORY_TURNS = 6;
    private static final long MODEL_LATENCY_MS = Long.getLong("triage.it.latencyMs", 60);

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.rocksDb(1);

    /**
     * The input: clean sessions, two sessions whose second ticket the model answers with garbage
     * (once, and once more when asked to repair it), and records that are no tickets at all.
     */
    private record Input(
            List<SimpleEntry<String, byte[]>> records,
            Map<String, List<String>> ticketsBySession,
            int badRecords) {

        int validTickets() {
            return SESSIONS * TICKETS_PER_SESSION + 6;
        }

        int expectedResults() {
            return validTickets() - 2;
        }

        int expectedDeadLetters() {
            return badRecords + 2;
        }
    }

    @Test
    void triagesEveryTicketExactlyOnceInSessionOrderWithHistory() throws Exception {
        Input input = input();
        try (TriageStack stack = TriageStack.start(MODEL_LATENCY_MS)) {
            Configuration settings =
                    stack.settings(
                            "session.history-turns: " + HISTORY_TURNS,
                            "session.max-in-flight: " + MAX_IN_FLIGHT,
                            "job.parallelism: 2");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.enableCheckpointing(1000);
            TriageJob.build(env, settings);
            JobClient job = env.executeAsync("triage-it");
            while (job.getJobStatus().get() != JobStatus.RUNNING) {
                Thread.sleep(50); // the cluster schedules the job; nothing is timed by this
            }

            long start = System.nanoTime();
            stack.produce(input.records());
            EmbeddedKafka.Read read =
                    stack.kafka.readCommittedTimed(
                            "triage-results", input.expectedResults(), Duration.ofMinutes(3));
            List<String> results = read.values();
            double seconds = (read.reachedAtNanos() - start) / 1e9;
            List<String> deadLetters =
                    stack.kafka.readCommitted(
                            "triage-dlq", input.expectedDeadLetters(), Duration.ofSeconds(30));
            job.cancel().get();
            System.out.printf(
                    "ITCase pipeline: %d tickets over %d sessions in %.1f s = %.0f tickets/s"
                            + " (model latency %d ms, parallelism 2, %d calls in flight per"
                            + " subtask, checkpoints every 1 s; from the first produce to the last"
                            + " committed result)%n",
                    input.records().size(),
                    SESSIONS + 2,
                    seconds,
                    input.records().size() / seconds,
                    MODEL_LATENCY_MS,
                    MAX_IN_FLIGHT);

            Map<String, JsonNode> resultById =
                    exactlyOneRecordPerInput(input, results, deadLetters);
            turnsInSessionOrder(results, resultById);
            everyRequestCarriedItsSessionsEarlierAnswers(input, stack.requests, resultById);
        }
    }

    private static Input input() {
        List<SimpleEntry<String, byte[]>> input = new ArrayList<>();
        Map<String, List<String>> ticketsBySession = new HashMap<>();
        for (int k = 1; k <= TICKETS_PER_SESSION; k++) {
            for (int s = 1; s <= SESSIONS; s++) {
                String session = String.format("S-%03d", s);
                String id = session + "-T" + k;
                String body =
                        "Message "
                                + k
                                + " of "
                                + session
                                + " about my invoice and a refund. More text.";
                input.add(ticket(session, id, body));
                ticketsBySession.computeIfAbsent(session, x -> new ArrayList<>()).add(id);
            }
        }
        for (String session : List.of("S-BAD-1", "S-BAD-2")) {
            input.add(ticket(session, session + "-T1", "First message of " + session + ". Hello."));
            input.add(
                    ticket(
                            session,
                            session + "-T2",
                            "Second of " + session + ". [[simulate:invalid-json]]"));
            input.add(
                    ticket(session, session + "-T3", "Third message of " + session + ". Thanks."));
        }
        List<byte[]> badRecords =
                List.of(
                        "this is not json".getBytes(StandardCharsets.UTF_8),
                        "{\"ticket_id\":\"X-1\",\"body\":\"no session\"}"
                                .getBytes(StandardCharsets.UTF_8),
                        "{\"ticket_id\":\"X-2\",\"session_id\":\"S-X\"}"
                                .getBytes(StandardCharsets.UTF_8),
                        ("{\"ticket_id\":\"X-3\",\"session_id\":\"S-X\",\"body\":\""
                                        + "a".repeat(40_000)
                                        + "\"}")
                                .getBytes(StandardCharsets.UTF_8),
                        new byte[] {(byte) 0xC3, (byte) 0x28, 0x7B, 0x7D},
                        "{\"ticket_id\":42,\"session_id\":\"S-X\",\"body\":\"numeric id\"}"
                                .getBytes(StandardCharsets.UTF_8),
                        "{\"ticket_id\":\"X-4\",\"session_id\":\"S-X\",\"body\":\"b\",\"created_at\":\"yesterday\"}"
                                .getBytes(StandardCharsets.UTF_8),
                        new byte[0],
                        "[1,2,3]".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < badRecords.size(); i++) {
            input.add(input.size() / 2 + i * 7, new SimpleEntry<>(null, badRecords.get(i)));
        }
        return new Input(input, ticketsBySession, badRecords.size());
    }

    /** Exactly one result or dead letter per input, and each dead letter says why. */
    private static Map<String, JsonNode> exactlyOneRecordPerInput(
            Input input, List<String> results, List<String> deadLetters) throws Exception {
        assertThat(results).hasSize(input.expectedResults());
        assertThat(deadLetters).hasSize(input.expectedDeadLetters());
        Map<String, JsonNode> resultById = new HashMap<>();
        for (String r : results) {
            JsonNode node = Json.MAPPER.readTree(r);
            assertThat(resultById.put(node.get("ticket_id").asText(), node))
                    .as("duplicate %s", r)
                    .isNull();
        }
        Set<String> deadIds = new HashSet<>();
        Map<String, Integer> reasons = new HashMap<>();
        for (String d : deadLetters) {
            JsonNode node = Json.MAPPER.readTree(d);
            assertThat(node.get("reason").asText()).isNotBlank();
            assertThat(node.get("detail").asText()).isNotBlank();
            assertThat(node.has("payload")).isTrue();
            assertThat(node.get("source").get("topic").asText()).isEqualTo("tickets");
            reasons.merge(node.get("reason").asText(), 1, Integer::sum);
            if (node.hasNonNull("ticket_id") && node.get("reason").asText().startsWith("llm_")) {
                deadIds.add(node.get("ticket_id").asText());
            }
        }
        assertThat(deadIds).containsExactlyInAnyOrder("S-BAD-1-T2", "S-BAD-2-T2");
        assertThat(reasons)
                .containsEntry("llm_invalid_output", 2)
                .containsEntry("invalid_json", 3)
                .containsEntry("missing_field", 2)
                .containsEntry("too_large", 1)
                .containsEntry("invalid_encoding", 1)
                .containsEntry("invalid_field", 2);
        // The original payload is kept: text as is, invalid UTF-8 as base64.
        assertThat(deadLetters)
                .anySatisfy(d -> assertThat(d).contains("\"payload\":\"this is not json\""));
        assertThat(deadLetters)
                .anySatisfy(
                        d -> assertThat(d).contains("\"payload\":\"wyh7fQ==\"").contains("base64"));

        return resultById;
    }

    /** Per-session order: turns 1..n, in order on the topic. */
    private static void turnsInSessionOrder(List<String> results, Map<String, JsonNode> resultById)
            throws Exception {
        Map<String, List<Integer>> turnsInTopicOrder = new HashMap<>();
        for (String r : results) {
            JsonNode node = Json.MAPPER.readTree(r);
            turnsInTopicOrder
                    .computeIfAbsent(node.get("session_id").asText(), x -> new ArrayList<>())
                    .add(node.get("turn").asInt());
        }
        for (int s = 1; s <= SESSIONS; s++) {
            String session = String.format("S-%03d", s);
            assertThat(turnsInTopicOrder.get(session))
                    .as(session)
                    .containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
            for (int k = 1; k <= TICKETS_PER_SESSION; k++) {
                assertThat(resultById.get(session + "-T" + k).get("turn").asInt()).isEqualTo(k);
            }
        }
        assertThat(turnsInTopicOrder.get("S-BAD-1")).containsExactly(1, 3);
    }

    /** Every request carried the session's earlier answers (the last HISTORY_TURNS of them). */
    private static void everyRequestCarriedItsSessionsEarlierAnswers(
            Input input, Queue<JsonNode> requests, Map<String, JsonNode> resultById)
            throws Exception {
        Map<String, JsonNode> requestByTicket = new HashMap<>();
        List<String> repaired = new ArrayList<>();
        for (JsonNode request : requests) {
            JsonNode messages = request.get("messages");
            String last = messages.get(messages.size() - 1).get("content").asText();
            if (last.startsWith("Your previous answer could not be used")) {
                // The one repair attempt of a broken answer: the ticket comes two messages earlier.
                TicketBlock.Contents t =
                        TicketBlock.read(messages.get(messages.size() - 3).get("content").asText());
                assertThat(t).isNotNull();
                repaired.add(t.ticketId());
                continue;
            }
            TicketBlock.Contents m = TicketBlock.read(last);
            assertThat(m).as("the last message is a ticket's data block").isNotNull();
            assertThat(requestByTicket.put(m.ticketId(), request))
                    .as("asked twice: %s", m.ticketId())
                    .isNull();
        }
        assertThat(requestByTicket).hasSize(input.validTickets());
        assertThat(repaired)
                .as("one repair attempt per broken answer, then the DLQ")
                .hasSize(2)
                .doesNotHaveDuplicates();
        for (int s = 1; s <= SESSIONS; s++) {
            String session = String.format("S-%03d", s);
            List<String> ids = input.ticketsBySession().get(session);
            for (int k = 1; k <= ids.size(); k++) {
                List<String> assistant = new ArrayList<>();
                for (JsonNode msg : requestByTicket.get(ids.get(k - 1)).get("messages")) {
                    if (msg.get("role").asText().equals("assistant")) {
                        assistant.add(
                                Json.MAPPER
                                        .readTree(msg.get("content").asText())
                                        .get("summary")
                                        .asText());
                    }
                }
                List<String> expected = new ArrayList<>();
                for (int j = Math.max(1, k - HISTORY_TURNS); j < k; j++) {
                    expected.add(resultById.get(ids.get(j - 1)).get("summary").asText());
                }
                assertThat(assistant).as("history of %s", ids.get(k - 1)).isEqualTo(expected);
            }
        }
        assertThat(resultById.get("S-001-T2").get("summary").asText())
                .isEqualTo("Message 2 of S-001 about my invoice and a refund.");
    }

    private static SimpleEntry<String, byte[]> ticket(String session, String id, String body) {
        var node = Json.object();
        node.put("ticket_id", id);
        node.put("session_id", session);
        node.put("customer_id", "C-" + session);
        node.put("channel", "email");
        node.put("subject", "Help");
        node.put("body", body);
        return new SimpleEntry<>(session, node.toString().getBytes(StandardCharsets.UTF_8));
    }
}
