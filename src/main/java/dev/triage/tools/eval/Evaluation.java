package dev.triage.tools.eval;

import dev.triage.config.EndpointOptions;
import dev.triage.config.LlmSettings;
import dev.triage.config.PromptSettings;
import dev.triage.io.Json;
import dev.triage.io.LabelledCsv;
import dev.triage.llm.LlmReply;
import dev.triage.llm.OpenAiChatClient;
import dev.triage.llm.TriageAnswer;
import dev.triage.llm.TriageAnswerParser;
import dev.triage.prompt.PromptBuilder;
import dev.triage.records.Ticket;
import dev.triage.tools.data.TopicReader;
import dev.triage.tools.simulator.EmbeddingTriager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * Evaluates triage quality on labelled tickets: splits off the examples, runs the test tickets
 * through the model (directly over HTTP, or through Kafka and the job) with the data's labels as
 * the categories, and writes {@code report.md}, {@code report.json}, {@code predictions.csv} and
 * {@code confusion.png}.
 */
public final class Evaluation {

    /** One labelled ticket of the test set. */
    public record Case(String id, String text, String label) {}

    /** What came back for a case: a category (null when none did), latency and tokens. */
    public record Outcome(
            Case testCase,
            String predicted,
            long latencyMs,
            int promptTokens,
            int completionTokens,
            String error) {}

    /** The test set, the examples taken out of it (if any), and the labels. */
    public record Split(
            List<Case> test, List<EmbeddingTriager.Example> examples, List<String> labels) {}

    private Evaluation() {}

    /**
     * Reads the labelled data. With {@code examples} equal to {@code data}, the first {@code
     * perClass} tickets of each label (after a seeded shuffle) become the examples and the rest the
     * test set; with another examples file, its first {@code perClass} per label are the examples
     * and all of the data is the test set; without one, there are no examples.
     */
    public static Split split(
            Path data,
            String textColumn,
            String labelColumn,
            Path examples,
            int perClass,
            long seed,
            int limit)
            throws IOException {
        List<String[]> rows = readRows(data, textColumn, labelColumn);
        List<EmbeddingTriager.Example> ex = new ArrayList<>();
        List<String[]> test = new ArrayList<>();
        if (examples != null && Files.isSameFile(examples, data)) {
            Collections.shuffle(rows, new Random(seed));
            Map<String, Integer> taken = new HashMap<>();
            for (String[] r : rows) {
                if (taken.merge(r[1], 1, Integer::sum) <= perClass) {
                    ex.add(new EmbeddingTriager.Example(r[0], r[1]));
                } else {
                    test.add(r);
                }
            }
        } else {
            if (examples != null) {
                for (String[] r : readRows(examples, textColumn, labelColumn)) {
                    ex.add(new EmbeddingTriager.Example(r[0], r[1]));
                }
                ex = firstPerClass(ex, perClass);
            }
            test.addAll(rows);
            Collections.shuffle(test, new Random(seed));
        }
        if (limit > 0 && test.size() > limit) {
            test = new ArrayList<>(test.subList(0, limit));
        }
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < test.size(); i++) {
            cases.add(new Case(String.format("EVAL-%06d", i + 1), test.get(i)[0], test.get(i)[1]));
        }
        TreeSet<String> labels = new TreeSet<>();
        rows.forEach(r -> labels.add(r[1]));
        return new Split(cases, ex, List.copyOf(labels));
    }

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
                        v -> {
                            JsonNode r = read(v);
                            Case c = byId.get(r.path("ticket_id").asText());
                            if (c != null) {
                                done.put(
                                        c.id(),
                                        new Outcome(
                                                c,
                                                r.path("category").asText(),
                                                r.path("latency_ms").asLong(),
                                                r.at("/usage/prompt_tokens").asInt(),
                                                r.at("/usage/completion_tokens").asInt(),
                                                null));
                            }
                        });
                dead.poll(
                        v -> {
                            JsonNode d = read(v);
                            Case c = byId.get(d.path("ticket_id").asText());
                            if (c != null) {
                                done.put(
                                        c.id(),
                                        new Outcome(
                                                c,
                                                null,
                                                0,
                                                0,
                                                0,
                                                d.path("reason").asText()
                                                        + ": "
                                                        + d.path("detail").asText()));
                            }
                        });
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

    /** Writes report.md, report.json, predictions.csv and confusion.png into {@code dir}. */
    public static EvalMetrics report(
            Path dir,
            String title,
            Map<String, String> setup,
            List<String> labels,
            List<Outcome> outcomes)
            throws IOException {
        Files.createDirectories(dir);
        EvalMetrics m = new EvalMetrics(labels);
        List<Long> latencies = new ArrayList<>();
        long promptTokens = 0;
        long completionTokens = 0;
        int errors = 0;
        for (Outcome o : outcomes) {
            m.add(o.testCase().label(), o.predicted());
            if (o.predicted() != null) {
                latencies.add(o.latencyMs());
            } else {
                errors++;
            }
            promptTokens += o.promptTokens();
            completionTokens += o.completionTokens();
        }
        Collections.sort(latencies);
        ObjectNode json = m.toJson();
        ObjectNode meta = Json.object();
        setup.forEach(meta::put);
        json.set("setup", meta);
        json.put("errors", errors);
        ObjectNode lat = json.putObject("latency_ms");
        lat.put("p50", percentile(latencies, 50));
        lat.put("p95", percentile(latencies, 95));
        lat.put("p99", percentile(latencies, 99));
        lat.put("max", latencies.isEmpty() ? 0 : latencies.get(latencies.size() - 1));
        json.putObject("tokens").put("prompt", promptTokens).put("completion", completionTokens);
        Files.writeString(
                dir.resolve("report.json"),
                Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(json));

        try (Writer w =
                Files.newBufferedWriter(dir.resolve("predictions.csv"), StandardCharsets.UTF_8)) {
            CsvMapper csv = new CsvMapper();
            CsvSchema schema =
                    CsvSchema.builder()
                            .addColumn("id")
                            .addColumn("label")
                            .addColumn("predicted")
                            .addColumn("latency_ms")
                            .addColumn("error")
                            .addColumn("text")
                            .build()
                            .withHeader();
            List<List<String>> rows = new ArrayList<>();
            for (Outcome o : outcomes) {
                rows.add(
                        List.of(
                                o.testCase().id(),
                                o.testCase().label(),
                                o.predicted() == null ? "" : o.predicted(),
                                Long.toString(o.latencyMs()),
                                o.error() == null ? "" : o.error(),
                                o.testCase().text()));
            }
            csv.writer(schema).writeValues(w).writeAll(rows);
        }
        Heatmap.write(m, title, dir.resolve("confusion.png"));

        StringBuilder md = new StringBuilder("# ").append(title).append("\n\n");
        setup.forEach((k, v) -> md.append("- ").append(k).append(": ").append(v).append('\n'));
        md.append("\n| metric | value |\n|---|---|\n");
        md.append("| tickets | ").append(m.total()).append(" |\n");
        md.append("| accuracy | ").append(EvalMetrics.pct(m.accuracy())).append(" |\n");
        md.append("| macro-F1 | ").append(EvalMetrics.pct(m.macroF1())).append(" |\n");
        md.append("| no answer (dead letter, error, timeout) | ").append(errors).append(" |\n");
        md.append("| latency p50 / p95 / p99 (ms) | ")
                .append(percentile(latencies, 50))
                .append(" / ")
                .append(percentile(latencies, 95))
                .append(" / ")
                .append(percentile(latencies, 99))
                .append(" |\n");
        md.append("| tokens (prompt / completion) | ")
                .append(promptTokens)
                .append(" / ")
                .append(completionTokens)
                .append(
                        " |\n\n## Per class\n\n| label | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|\n");
        for (int c = 0; c < labels.size(); c++) {
            md.append("| ")
                    .append(labels.get(c))
                    .append(" | ")
                    .append(EvalMetrics.pct(m.precision(c)))
                    .append(" | ")
                    .append(EvalMetrics.pct(m.recall(c)))
                    .append(" | ")
                    .append(EvalMetrics.pct(m.f1(c)))
                    .append(" | ")
                    .append(m.support(c))
                    .append(" |\n");
        }
        md.append("\n## Confusion matrix\n\n![confusion matrix](confusion.png)\n\n")
                .append(m.confusionMarkdown());
        Files.writeString(dir.resolve("report.md"), md.toString());
        return m;
    }

    /** Nearest-rank percentile; 0 for no values. */
    static long percentile(List<Long> sorted, int p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    /** Writes examples as a CSV (text, label) for the model server's --examples. */
    public static void writeExamples(List<EmbeddingTriager.Example> examples, Path file)
            throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            CsvSchema schema =
                    CsvSchema.builder().addColumn("text").addColumn("label").build().withHeader();
            List<List<String>> rows = new ArrayList<>();
            examples.forEach(e -> rows.add(List.of(e.text(), e.label())));
            new CsvMapper().writer(schema).writeValues(w).writeAll(rows);
        }
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

    private static List<EmbeddingTriager.Example> firstPerClass(
            List<EmbeddingTriager.Example> all, int k) {
        if (k <= 0) {
            return all;
        }
        Map<String, Integer> n = new HashMap<>();
        List<EmbeddingTriager.Example> out = new ArrayList<>();
        for (var e : all) {
            if (n.merge(e.label(), 1, Integer::sum) <= k) {
                out.add(e);
            }
        }
        return out;
    }

    private static List<String[]> readRows(Path file, String textColumn, String labelColumn)
            throws IOException {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            List<String[]> rows = new ArrayList<>();
            for (LabelledCsv.Row r : LabelledCsv.read(in, textColumn, labelColumn, 0)) {
                rows.add(new String[] {r.text(), r.label()});
            }
            return rows;
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
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
                0.0);
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
