package dev.triage.llm;

import dev.triage.io.Json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Set;

/**
 * Validates a model's answer against the output contract. Servers constrain decoding only
 * best-effort, so the answer is checked here whatever the request asked for.
 */
public final class TriageAnswerParser {

    /** Default of {@code triage.max-summary-chars}. */
    public static final int DEFAULT_MAX_SUMMARY_CHARS = 2_000;

    /** Default of {@code triage.max-draft-reply-chars}. */
    public static final int DEFAULT_MAX_DRAFT_REPLY_CHARS = 8_000;

    private final Set<String> categories;
    private final int maxSummaryChars;
    private final int maxDraftReplyChars;

    public TriageAnswerParser(Set<String> categories) {
        this(categories, DEFAULT_MAX_SUMMARY_CHARS, DEFAULT_MAX_DRAFT_REPLY_CHARS);
    }

    /**
     * With explicit bounds on the answer's texts (characters): what a result carries must fit a
     * Kafka record, and a model that writes more than this has not followed the prompt.
     */
    public TriageAnswerParser(Set<String> categories, int maxSummaryChars, int maxDraftReplyChars) {
        this.categories = Set.copyOf(categories);
        this.maxSummaryChars = maxSummaryChars;
        this.maxDraftReplyChars = maxDraftReplyChars;
    }

    /** Parses the content of a reply, or throws with a human-readable reason. */
    public TriageAnswer parse(String content) throws InvalidAnswerException {
        if (content == null || content.isBlank()) {
            throw new InvalidAnswerException("empty answer");
        }
        JsonNode node;
        try {
            node = Json.STRICT.readTree(stripCodeFence(content)); // no key twice
        } catch (JsonProcessingException e) {
            throw new InvalidAnswerException("answer is not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new InvalidAnswerException("answer is not a JSON object");
        }
        String category = text(node, "category");
        if (!categories.contains(category)) {
            throw new InvalidAnswerException(
                    "unknown category " + quoted(category) + "; allowed: " + categories);
        }
        String priority = text(node, "priority");
        if (!TriageAnswer.PRIORITIES.contains(priority)) {
            throw new InvalidAnswerException("invalid priority " + quoted(priority));
        }
        String sentiment = text(node, "sentiment");
        if (!TriageAnswer.SENTIMENTS.contains(sentiment)) {
            throw new InvalidAnswerException("invalid sentiment " + quoted(sentiment));
        }
        String summary = bounded(node, "summary", maxSummaryChars);
        String draftReply = bounded(node, "draft_reply", maxDraftReplyChars);
        JsonNode confidence = node.get("confidence");
        if (confidence == null || !confidence.isNumber()) {
            throw new InvalidAnswerException("confidence must be a number");
        }
        double c = confidence.asDouble();
        if (!(c >= 0.0 && c <= 1.0)) {
            throw new InvalidAnswerException("confidence " + c + " is outside 0..1");
        }
        return new TriageAnswer(category, priority, sentiment, summary, draftReply, c);
    }

    private static String text(JsonNode node, String field) throws InvalidAnswerException {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new InvalidAnswerException(field + " is missing or not a string");
        }
        return value.asText();
    }

    private static String bounded(JsonNode node, String field, int maxChars)
            throws InvalidAnswerException {
        String text = text(node, field);
        if (text.length() > maxChars) {
            throw new InvalidAnswerException(
                    field + " has " + text.length() + " characters; at most " + maxChars);
        }
        return text;
    }

    /** The model's text in a reason: quoted, at most 64 characters. */
    private static String quoted(String text) {
        return "'" + (text.length() <= 64 ? text : text.substring(0, 64) + "...") + "'";
    }

    /** Prompt-only backends often wrap JSON in a Markdown code fence. */
    static String stripCodeFence(String content) {
        String s = content.strip();
        if (s.startsWith("```")) {
            int firstNewline = s.indexOf('\n');
            int lastFence = s.lastIndexOf("```");
            if (firstNewline > 0 && lastFence > firstNewline) {
                return s.substring(firstNewline + 1, lastFence);
            }
        }
        return s;
    }

    /** The answer broke the contract. */
    public static final class InvalidAnswerException extends Exception {
        public InvalidAnswerException(String message) {
            super(message);
        }
    }
}
