package dev.triage.tools.simulator;

import dev.triage.io.Json;
import dev.triage.llm.ChatMessage;
import dev.triage.prompt.PromptFormat;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A chat completion request's body, and what the simulator reads of it: the conversation (through
 * the job's declared {@link PromptFormat}), the categories the answer may use, the tokens it asks
 * for.
 */
record ChatRequest(JsonNode json, int chars) {

    /** What a request says when neither its schema nor its prompt lists categories. */
    static final List<String> DEFAULT_CATEGORIES =
            List.of("billing", "technical", "account", "shipping", "other");

    /** The JSON of {@code body}; not yet checked to be a chat request. */
    static ChatRequest parse(String body) throws IOException {
        return new ChatRequest(Json.MAPPER.readTree(body), body.length());
    }

    /** The messages read by the prompt format. */
    PromptFormat.Conversation conversation() throws BadRequest {
        JsonNode messages = json.path("messages");
        if (!messages.isArray() || messages.isEmpty()) {
            throw new BadRequest("'messages' must be a non-empty array");
        }
        List<ChatMessage> list = new ArrayList<>(messages.size());
        for (JsonNode m : messages) {
            list.add(new ChatMessage(m.path("role").asText(), m.path("content").asText()));
        }
        try {
            return PromptFormat.read(list);
        } catch (IllegalArgumentException e) {
            throw new BadRequest(e.getMessage());
        }
    }

    /**
     * The categories of the response schema's enum; else (json_object and prompt-only requests)
     * those the system message lists; else {@link #DEFAULT_CATEGORIES}.
     */
    List<String> allowedCategories(String system) {
        JsonNode values =
                json.path("response_format")
                        .path("json_schema")
                        .path("schema")
                        .path("properties")
                        .path("category")
                        .path("enum");
        List<String> out = new ArrayList<>();
        if (values.isArray()) {
            values.forEach(v -> out.add(v.asText()));
        }
        if (out.isEmpty()) {
            PromptFormat.categories(system).forEach(c -> out.add(c.name()));
        }
        if (out.isEmpty()) {
            out.addAll(DEFAULT_CATEGORIES);
        }
        return out;
    }

    /** Prompt tokens as providers estimate them before running the model: ~4 chars a token. */
    int promptTokens() {
        long total = 0;
        int messages = 0;
        for (JsonNode m : json.path("messages")) {
            total += m.path("content").asText("").length();
            messages++;
        }
        return (int) ((total + 3) / 4 + 4L * messages);
    }

    /** The completion tokens the request asks for at most; 0: not said. */
    int maxTokens() {
        return json.path("max_tokens").asInt(json.path("max_completion_tokens").asInt(0));
    }

    /** A request the simulator answers 400. */
    static final class BadRequest extends Exception {
        BadRequest(String message) {
            super(message, null, false, false);
        }
    }
}
