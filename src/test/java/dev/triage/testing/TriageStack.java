package dev.triage.testing;

import dev.triage.config.JobSettings;
import dev.triage.io.Json;
import dev.triage.prompt.TicketBlock;
import dev.triage.tools.simulator.LocalModelServer;
import dev.triage.tools.simulator.ProviderProfile;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.configuration.Configuration;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.AbstractMap.SimpleEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The real parts an ITCase runs the job against: an in-process Kafka broker with the job's topics
 * and the local model server on a random port, recording every request per ticket id.
 */
public final class TriageStack implements AutoCloseable {

    public final EmbeddedKafka kafka;
    public final LocalModelServer model;

    /** Every chat request the model received, in the order it received them. */
    public final Queue<JsonNode> requests = new ConcurrentLinkedQueue<>();

    /** Every chat request the model received, by the ticket id it asked about. */
    public final Map<String, ConcurrentLinkedQueue<JsonNode>> requestsByTicket =
            new ConcurrentHashMap<>();

    private TriageStack(EmbeddedKafka kafka, LocalModelServer model) {
        this.kafka = kafka;
        this.model = model;
    }

    public static TriageStack start(long modelLatencyMs) throws Exception {
        return start(ProviderProfile.NONE.withLatency(modelLatencyMs, modelLatencyMs));
    }

    public static TriageStack start(long modelLatencyMs, ProviderProfile profile) throws Exception {
        return start(profile.withLatency(modelLatencyMs, modelLatencyMs));
    }

    /** The broker with the job's topics, and a model server that behaves as the profile says. */
    public static TriageStack start(ProviderProfile profile) throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.start();
        kafka.createTopic("tickets", 4);
        kafka.createTopic("triage-results", 2);
        kafka.createTopic("triage-dlq", 1);
        kafka.createTopic("customers", 2);
        TriageStack[] self = new TriageStack[1];
        LocalModelServer model =
                LocalModelServer.start(
                        LocalModelServer.Options.onPort(0)
                                .withProfile(profile)
                                .withRequestListener(r -> self[0].record(r)));
        self[0] = new TriageStack(kafka, model);
        return self[0];
    }

    /** When the model received its first and last request (System.nanoTime). */
    public final java.util.concurrent.atomic.AtomicLong firstRequestNanos =
            new java.util.concurrent.atomic.AtomicLong();

    public final java.util.concurrent.atomic.AtomicLong lastRequestNanos =
            new java.util.concurrent.atomic.AtomicLong();

    private void record(JsonNode request) {
        long now = System.nanoTime();
        firstRequestNanos.compareAndSet(0, now);
        lastRequestNanos.set(now);
        requests.add(request);
        JsonNode messages = request.get("messages");
        // The ticket is the last message's data block (a repair request carries none).
        TicketBlock.Contents ticket =
                TicketBlock.read(messages.get(messages.size() - 1).get("content").asText());
        if (ticket != null && ticket.ticketId() != null) {
            requestsByTicket
                    .computeIfAbsent(ticket.ticketId(), k -> new ConcurrentLinkedQueue<>())
                    .add(request);
        }
    }

    /** Job settings for this stack, plus extra YAML lines. */
    public Configuration settings(String... extra) throws Exception {
        List<String> lines = new ArrayList<>();
        lines.add("kafka.bootstrap-servers: " + kafka.bootstrapServers());
        lines.add("kafka.starting-offsets: earliest");
        lines.add("llm.base-url: " + model.baseUrl());
        lines.addAll(List.of(extra));
        return JobSettings.fromYaml(String.join("\n", lines));
    }

    /** Ticket {@code k} of a session, keyed by session; its body's first sentence is unique. */
    public static SimpleEntry<String, byte[]> ticket(String session, int k) {
        var node = Json.object();
        node.put("ticket_id", session + "-T" + k);
        node.put("session_id", session);
        node.put("body", "Message " + k + " of " + session + " about my order. Please help.");
        return new SimpleEntry<>(session, node.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Turns {@code from..to} of every session, interleaved across sessions. */
    public static List<SimpleEntry<String, byte[]>> turns(List<String> sessions, int from, int to) {
        List<SimpleEntry<String, byte[]>> out = new ArrayList<>();
        for (int k = from; k <= to; k++) {
            for (String s : sessions) {
                out.add(ticket(s, k));
            }
        }
        return out;
    }

    public void produce(List<SimpleEntry<String, byte[]>> records) {
        kafka.produce("tickets", new ArrayList<>(records));
    }

    public List<String> results(int expected, Duration timeout) {
        return kafka.readCommitted("triage-results", expected, timeout);
    }

    /** Calls made beyond one per ticket: the price of failures. */
    public int reRequests() {
        return requestsByTicket.values().stream().mapToInt(q -> q.size() - 1).sum();
    }

    /**
     * Checks that every request for ticket k of a session carried exactly the summaries of the
     * session's previous min(k-1, historyTurns) answers. Returns the violations.
     */
    public List<String> historyViolations(List<String> results, int historyTurns) throws Exception {
        Map<String, Map<Integer, String>> summaries = new HashMap<>();
        Map<String, String> idToSession = new HashMap<>();
        Map<String, Integer> idToTurn = new HashMap<>();
        for (String r : results) {
            JsonNode node = Json.MAPPER.readTree(r);
            String session = node.get("session_id").asText();
            summaries
                    .computeIfAbsent(session, s -> new HashMap<>())
                    .put(node.get("turn").asInt(), node.get("summary").asText());
            idToSession.put(node.get("ticket_id").asText(), session);
            idToTurn.put(node.get("ticket_id").asText(), node.get("turn").asInt());
        }
        List<String> violations = new ArrayList<>();
        for (var e : idToSession.entrySet()) {
            int turn = idToTurn.get(e.getKey());
            List<String> expected = new ArrayList<>();
            for (int j = Math.max(1, turn - historyTurns); j < turn; j++) {
                expected.add(summaries.get(e.getValue()).get(j));
            }
            for (JsonNode request :
                    requestsByTicket.getOrDefault(e.getKey(), new ConcurrentLinkedQueue<>())) {
                List<String> seen = new ArrayList<>();
                for (JsonNode msg : request.get("messages")) {
                    if (msg.get("role").asText().equals("assistant")) {
                        seen.add(
                                Json.MAPPER
                                        .readTree(msg.get("content").asText())
                                        .get("summary")
                                        .asText());
                    }
                }
                if (!seen.equals(expected)) {
                    violations.add(e.getKey() + ": history " + seen + ", expected " + expected);
                }
            }
        }
        return violations;
    }

    @Override
    public void close() throws Exception {
        model.close();
        kafka.close();
    }
}
