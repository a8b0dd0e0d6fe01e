package dev.triage.tools.simulator;

import dev.triage.io.Json;
import dev.triage.io.LabelledCsv;
import dev.triage.prompt.PromptFormat;
import dev.triage.prompt.TicketBlock;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The local model: classifies for real with sentence embeddings (all-MiniLM-L6-v2, quantized, an
 * ONNX model inside a Maven jar, offline) and nearest centroids over labelled examples.
 *
 * <ul>
 *   <li>Category: the allowed category (from the request's schema) whose examples' centroid is
 *       closest to the ticket; a category without examples is represented by its name and the
 *       description the system prompt gives it. Below {@link #OTHER_THRESHOLD} similarity the
 *       answer is "other" when that is allowed. The confidence is the winner's softmax share.
 *   <li>Priority and sentiment: the same over small example sets, plus documented rules: words such
 *       as "urgent", "immediately" or "outage" make a ticket urgent; a negative ticket is at least
 *       of normal priority.
 *   <li>Summary: the body's first sentence (extractive). Draft reply: the closest reply template of
 *       the chosen category from a small knowledge base, opened for a follow-up when the
 *       conversation has earlier turns.
 * </ul>
 *
 * Thread-safe: the embedding model is, and the caches are concurrent.
 *
 * <p>Over 300 lines because it is the whole local model (embeddings, centroids, the priority and
 * sentiment rules, the extractive summary and the reply templates); its improvement is issue 17's
 * work.
 */
public final class EmbeddingTriager {

    /** Below this cosine similarity to every category, the answer is "other" (when allowed). */
    static final double OTHER_THRESHOLD = 0.2;

    private static final Pattern URGENT =
            Pattern.compile(
                    "\\b(urgent|urgently|asap|immediately|emergency|outage|critical|right now|fraud|hacked)\\b");

    /** How similar the nearest priority or sentiment example must be to decide. */
    private static final double NEAR = 0.5;

    private static final int MAX_CHARS = 600; // the tokenizer keeps 128 tokens anyway

    private final EmbeddingModel model;
    private final Map<String, float[]> categoryCentroids;
    private final List<Labelled> priorityExamples;
    private final List<Labelled> sentimentExamples;
    private final List<Reply> replies;
    private final Map<String, float[]> descriptionCache = new ConcurrentHashMap<>();

    private record Reply(String category, String text, float[] vector) {}

    private record Labelled(String label, float[] vector) {}

    /** A labelled text. */
    public record Example(String text, String label) {}

    private EmbeddingTriager(
            EmbeddingModel model,
            List<Example> categories,
            List<Example> priorities,
            List<Example> sentiments,
            List<Example> replyTemplates) {
        this.model = model;
        this.categoryCentroids = centroids(categories);
        this.priorityExamples = vectors(priorities);
        this.sentimentExamples = vectors(sentiments);
        this.replies = new ArrayList<>();
        for (Example r : replyTemplates) {
            replies.add(new Reply(r.label(), r.text(), embed(r.text())));
        }
    }

    /**
     * Loads the embedding model and the examples: the shipped ones, or {@code examplesFile} (a CSV
     * with {@code text} and {@code label} columns) with at most {@code perClass} examples per label
     * (0: all), in file order.
     */
    public static EmbeddingTriager load(Path examplesFile, int perClass) throws IOException {
        List<Example> categories;
        if (examplesFile == null) {
            categories = readExamples(resource("examples.csv"), "text", "label", perClass);
        } else {
            try (Reader in = Files.newBufferedReader(examplesFile, StandardCharsets.UTF_8)) {
                categories = readExamples(in, "text", "label", perClass);
            }
        }
        return load(categories);
    }

    /** Loads the embedding model with these category examples (and the shipped rest). */
    public static EmbeddingTriager load(List<Example> categoryExamples) throws IOException {
        return new EmbeddingTriager(
                new AllMiniLmL6V2QuantizedEmbeddingModel(),
                categoryExamples,
                readExamples(resource("priority-examples.csv"), "text", "label", 0),
                readExamples(resource("sentiment-examples.csv"), "text", "label", 0),
                readExamples(resource("replies.csv"), "reply", "category", 0));
    }

    /** Labels with examples, in the examples' order. */
    public List<String> labels() {
        return List.copyOf(categoryCentroids.keySet());
    }

    /**
     * Reads labelled texts from CSV with a header row; at most {@code perClass} per label (0: all).
     */
    public static List<Example> readExamples(
            Reader csv, String textColumn, String labelColumn, int perClass) throws IOException {
        return LabelledCsv.read(csv, textColumn, labelColumn, perClass).stream()
                .map(r -> new Example(r.text(), r.label()))
                .toList();
    }

    /**
     * Triages a ticket.
     *
     * @param allowed categories the answer may use (from the request's schema), in order
     * @param systemPrompt the request's system message; its "- name: description" lines describe
     *     categories that have no examples
     * @param ticket the ticket as the request's data block carries it
     * @param earlierTurns how many earlier turns the request carried
     */
    public ObjectNode triage(
            List<String> allowed,
            String systemPrompt,
            TicketBlock.Contents ticket,
            int earlierTurns) {
        String body = RuleBasedTriager.bodyOf(ticket);
        String subject =
                ticket.subject() == null || ticket.subject().isBlank() ? null : ticket.subject();
        String text = (subject == null ? "" : subject + ". ") + body;
        float[] v = embed(text.length() > MAX_CHARS ? text.substring(0, MAX_CHARS) : text);

        Map<String, String> descriptions = new LinkedHashMap<>();
        for (PromptFormat.Category c : PromptFormat.categories(systemPrompt)) {
            if (!c.description().isEmpty()) {
                descriptions.put(c.name(), c.description());
            }
        }
        Map<String, Double> scores = new LinkedHashMap<>();
        for (String category : allowed) {
            float[] centroid = categoryCentroids.get(key(category));
            if (centroid == null) {
                String description = category + ": " + descriptions.getOrDefault(category, "");
                centroid = descriptionCache.computeIfAbsent(description, this::embed);
            }
            scores.put(category, dot(v, centroid));
        }
        String best = argmax(scores);
        double confidence = softmaxShare(scores, best);
        if (scores.get(best) < OTHER_THRESHOLD && allowed.contains("other")) {
            best = "other";
            confidence = 0.3;
        }

        String lower = text.toLowerCase(Locale.ROOT);
        // The nearest labelled example decides when it is close; else the word rules do.
        String sentiment = nearest(v, sentimentExamples);
        if (sentiment == null) {
            sentiment = RuleBasedTriager.sentimentByRules(lower);
        }
        String priority = nearest(v, priorityExamples);
        if (priority == null) {
            priority = RuleBasedTriager.priorityByRules(lower);
        }
        if (URGENT.matcher(lower).find()) {
            priority = "urgent";
        } else if (sentiment.equals("negative") && priority.equals("low")) {
            priority = "normal";
        }

        ObjectNode answer = Json.object();
        answer.put("category", best);
        answer.put("priority", priority);
        answer.put("sentiment", sentiment);
        answer.put("summary", RuleBasedTriager.firstSentence(body));
        answer.put("draft_reply", reply(best, v, earlierTurns, subject));
        answer.put("confidence", Math.round(confidence * 100) / 100.0);
        return answer;
    }

    /** The closest template of the category, opened with the ticket's own subject. */
    private String reply(String category, float[] ticket, int earlierTurns, String subject) {
        Reply best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (Reply r : replies) {
            double s = dot(ticket, r.vector()) + (r.category().equals(category) ? 1.0 : 0.0);
            if (s > bestScore) {
                bestScore = s;
                best = r;
            }
        }
        String about =
                subject == null || subject.isBlank()
                        ? ""
                        : " about \"" + subject.replaceFirst("^(?i)re:\\s*", "").strip() + "\"";
        String opening =
                earlierTurns > 0
                        ? "Thanks for following up on your earlier message" + about + "."
                        : "Thanks for contacting us" + about + ".";
        return best == null ? opening : opening + " " + best.text();
    }

    private Map<String, float[]> centroids(List<Example> examples) {
        Map<String, float[]> sums = new LinkedHashMap<>();
        for (Example e : examples) {
            float[] v = embed(e.text());
            float[] sum = sums.computeIfAbsent(key(e.label()), k -> new float[v.length]);
            for (int i = 0; i < v.length; i++) {
                sum[i] += v[i];
            }
        }
        sums.values().forEach(EmbeddingTriager::normalize);
        return sums;
    }

    private List<Labelled> vectors(List<Example> examples) {
        List<Labelled> out = new ArrayList<>();
        for (Example e : examples) {
            out.add(new Labelled(e.label(), embed(e.text())));
        }
        return out;
    }

    /** The label of the most similar example, when it is at least {@link #NEAR} similar. */
    private static String nearest(float[] v, List<Labelled> examples) {
        String best = null;
        double bestScore = NEAR;
        for (Labelled e : examples) {
            double s = dot(v, e.vector());
            if (s >= bestScore) {
                bestScore = s;
                best = e.label();
            }
        }
        return best;
    }

    private float[] embed(String text) {
        float[] v = model.embed(text.isBlank() ? "(empty)" : text).content().vector();
        normalize(v);
        return v;
    }

    /** Labels match case-insensitively, with '-' and '_' alike ("SHIPPING_ADDRESS"). */
    private static String key(String label) {
        return label.toLowerCase(Locale.ROOT).replace('-', '_');
    }

    private static String argmax(Map<String, Double> scores) {
        return scores.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }

    /** The winner's share of exp(score / 0.05): near 1 when it stands out, near 1/n when not. */
    private static double softmaxShare(Map<String, Double> scores, String winner) {
        double max = scores.get(winner);
        double sum = 0;
        for (double s : scores.values()) {
            sum += Math.exp((s - max) / 0.05);
        }
        return 1.0 / sum;
    }

    private static void normalize(float[] v) {
        double norm = 0;
        for (float x : v) {
            norm += x * x;
        }
        norm = Math.sqrt(norm);
        if (norm > 0) {
            for (int i = 0; i < v.length; i++) {
                v[i] /= (float) norm;
            }
        }
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static Reader resource(String name) throws IOException {
        try (InputStream in = EmbeddingTriager.class.getResourceAsStream("/model/" + name)) {
            if (in == null) {
                throw new IOException("missing resource /model/" + name);
            }
            return new StringReader(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }
}
