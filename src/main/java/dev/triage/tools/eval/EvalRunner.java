package dev.triage.tools.eval;

import dev.triage.config.EndpointOptions;
import dev.triage.config.LlmSettings;
import dev.triage.config.PromptSettings;
import dev.triage.io.Json;
import dev.triage.llm.LlmReply;
import dev.triage.llm.OpenAiChatClient;
import dev.triage.llm.TriageAnswer;
import dev.triage.llm.TriageAnswerParser;
import dev.triage.prompt.PromptBuilder;
import dev.triage.records.Ticket;
import dev.triage.tools.data.TopicReader;
import dev.triage.tools.eval.EvalSplit.Case;
import dev.triage.tools.simulator.EmbeddingTriager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.function.BiFunction;

/**
 * Runs the test tickets through the model, directly over HTTP or through Kafka and the job, with
 * the data's labels as the categories, and collects what came back for each.
 */
public final class EvalRunner {

    /** What came back for a case: a category (null when none did), latency and tokens. */
    public record Outcome(
            Case testCase,
            String predicted,
            long latencyMs,
            int promptTokens,
            int completionTokens,
            String error) {}

    private EvalRunner() {}

    /** The prompt settings for an evaluation: the data's labels are the categories. */
    public static PromptSettings prompts(List<String> labels) {
        return prompts(labels, List.of(), 0);
    }

    /** The same, with up to {@code fewShot} examples per label shown in the prompt. */
    public static PromptSettings prompts(
            List<String> labels, List<EmbeddingTriager.Example> examples, int fewShot) {
        TreeMap<String, String> categories = new TreeMap<>();
        for (String l : labels) {
            categories.put(l, describe(l));
        }
        List<PromptSettings.FewShot> shots = new ArrayList<>();
        Map<String, Integer> n = new HashMap<>();
        for (var e : examples) {
            if (fewShot > 0 && n.merge(e.label(), 1, Integer::sum) <= fewShot) {
                shots.add(new PromptSettings.FewShot(e.text(), e.label()));
            }
        }
        return new PromptSettings(
                "You are a support triage assistant. Classify the customer's ticket into one of the"
                        + " categories, judge its priority and sentiment, summarize it in one sentence"
                        + " and draft a short reply.",
                categories,
                shots);
    }

    /** "SHIPPING_ADDRESS" becomes "Tickets about shipping address." */
    static String describe(String label) {
        return "Tickets about "
                + label.replace('_', ' ').replace('-', ' ').toLowerCase(Locale.ROOT)
                + ".";
    }

    /** Calls the endpoint directly, {@code concurrency} calls at a time. */
    public static List<Outcome> runDirect(
            List<Case> cases, PromptSettings prompts, LlmSettings endpoint, int concurrency)
            throws InterruptedException {
        PromptBuilder builder = new PromptBuilder(prompts);
        TriageAnswerParser parser = new TriageAnswerParser(prompts.categories().keySet());
        Semaphore slots = new Semaphore(concurrency);
        List<CompletableFuture<Outcome>> futures = new ArrayList<>();
        try (var client = new OpenAiChatClient(endpoint, endpoint.resolveApiKey())) {
            for (Case c : cases) {
                slots.acquire();
                long start = System.nanoTime();
                futures.add(
                        client.complete(
                                        builder.messages(List.of(), ticket(c)),
                                        builder.answerSchema())
                                .handle(
                                        (reply, error) -> {
                                            slots.release();
                                            long ms = (System.nanoTime() - start) / 1_000_000;
                                            return outcome(c, reply, error, ms, parser);
                                        }));
                Progress.tick(futures.size(), cases.size());
            }
            return futures.stream().map(CompletableFuture::join).toList();
        }
    }

    /**
     * Sends the cases through Kafka to a running triage job (one session per ticket) and reads its
     * committed results and dead letters until every case is accounted for.
     */
    public static List<Outcome> runPipeline(
            List<Case> cases,
            String bootstrap,
            String ticketsTopic,
            String resultsTopic,
            String dlqTopic,
            Duration timeout)
            throws InterruptedException {
        Map<String, Long> sentAt = new ConcurrentHashMap<>();
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("acks", "all");
        try (var producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (Case c : cases) {
                ObjectNode t = Json.object();
                t.put("ticket_id", c.id());
                t.put("session_id", c.id());
                t.put("body", c.text());
                sentAt.put(c.id(), System.nanoTime());
                producer.send(new ProducerRecord<>(ticketsTopic, c.id(), t.toString()));
            }
        }
        Map<String, Case> byId = new HashMap<>();
        cases.forEach(c -> byId.put(c.id(), c));
        Map<String, Outcome> done = new LinkedHashMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (TopicReader results = new TopicReader(bootstrap, resultsTopic);
                TopicReader dead = new TopicReader(bootstrap, dlqTopic)) {
            while (done.size() < cases.size() && System.nanoTime() < deadline) {
                results.poll(
                        v ->
                                record(
                                        v,
                                        byId,
                                        done,
                                        (c, r) ->
                                                new Outcome(
                                                        c,
                                                        r.path("category").asText(),
                                                        r.path("latency_ms").asLong(),
                                                        r.at("/usage/prompt_tokens").asInt(),
                                                        r.at("/usage/completion_tokens").asInt(),
                                                        null)));
                dead.poll(
                        v ->
                                record(
                                        v,
                                        byId,
                                        done,
                                        (c, d) ->
                                                new Outcome(
                                                        c,
                                                        null,
                                                        0,
                                                        0,
                                                        0,
                                                        d.path("reason").asText()
                                                                + ": "
                                                                + d.path("detail").asText())));
                Progress.tick(done.size(), cases.size());
            }
        }
        List<Outcome> out = new ArrayList<>();
        for (Case c : cases) {
            out.add(
                    done.getOrDefault(
                            c.id(), new Outcome(c, null, 0, 0, 0, "no result before the timeout")));
        }
        return out;
    }

    private static Ticket ticket(Case c) {
        return new Ticket(c.id(), c.id(), null, null, null, c.text(), 0L, "eval", 0, 0L);
    }

    private static Outcome outcome(
            Case c, LlmReply reply, Throwable error, long ms, TriageAnswerParser parser) {
        if (error != null) {
            Throwable t = error.getCause() != null ? error.getCause() : error;
            return new Outcome(c, null, ms, 0, 0, t.getMessage());
        }
        try {
            TriageAnswer a = parser.parse(reply.content());
            return new Outcome(
                    c, a.category(), ms, reply.promptTokens(), reply.completionTokens(), null);
        } catch (TriageAnswerParser.InvalidAnswerException e) {
            return new Outcome(
                    c, null, ms, reply.promptTokens(), reply.completionTokens(), e.getMessage());
        }
    }

    /** Records the outcome of an output of one of the cases; others are not this run's. */
    private static void record(
            String json,
            Map<String, Case> byId,
            Map<String, Outcome> done,
            BiFunction<Case, JsonNode, Outcome> outcome) {
        JsonNode n = read(json);
        Case c = byId.get(n.path("ticket_id").asText());
        if (c != null) {
            done.put(c.id(), outcome.apply(c, n));
        }
    }

    private static JsonNode read(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            return Json.object();
        }
    }

    /** The local endpoint settings for an evaluation (no key, strict schema). */
    public static LlmSettings endpoint(String baseUrl, String model, String apiKeyEnv) {
        return new LlmSettings(
                "eval",
                baseUrl,
                model,
                apiKeyEnv,
                "",
                apiKeyEnv.isBlank() ? EndpointOptions.Auth.NONE : EndpointOptions.Auth.BEARER,
                "",
                EndpointOptions.StructuredOutput.JSON_SCHEMA,
                "max_tokens",
                0,
                0,
                0.0,
                400,
                Duration.ofSeconds(60),
                Duration.ofSeconds(5),
                0.0,
                0.0,
                null); // no proxy
    }

    /** Progress on stderr, a line every 10%. */
    static final class Progress {
        private static int lastDecile = -1;

        static synchronized void tick(int done, int total) {
            int decile = total == 0 ? 10 : done * 10 / total;
            if (decile != lastDecile) {
                lastDecile = decile;
                System.err.printf("  %d / %d tickets%n", done, total);
            }
        }
    }
}
