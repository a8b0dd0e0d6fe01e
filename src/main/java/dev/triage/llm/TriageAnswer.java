package dev.triage.llm;

import dev.triage.io.Json;

import java.util.List;

/** A validated answer of the model for one ticket. */
public record TriageAnswer(
        String category,
        String priority,
        String sentiment,
        String summary,
        String draftReply,
        double confidence) {

    public static final List<String> PRIORITIES = List.of("low", "normal", "high", "urgent");
    public static final List<String> SENTIMENTS = List.of("negative", "neutral", "positive");

    /** The answer as the model is asked to write it; used as the assistant turn in history. */
    public String toJson() {
        var node = Json.object();
        node.put("category", category);
        node.put("priority", priority);
        node.put("sentiment", sentiment);
        node.put("summary", summary);
        node.put("draft_reply", draftReply);
        node.put("confidence", confidence);
        return node.toString();
    }
}
