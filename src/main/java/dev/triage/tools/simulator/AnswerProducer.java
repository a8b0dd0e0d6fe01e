package dev.triage.tools.simulator;

import dev.triage.io.Json;
import dev.triage.prompt.PromptFormat;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The answer to a chat request that no fault refused: the triager's JSON, or one of the profile's
 * bad answers (malformed, cut off, refused), written as an OpenAI chat completion. A ticket's text
 * may ask for a bad answer: {@code [[simulate:invalid-json]]} or {@code [[simulate:400]]}.
 */
final class AnswerProducer {

    static final String SIMULATE_BAD_REQUEST = "[[simulate:400]]";
    static final String SIMULATE_INVALID_JSON = "[[simulate:invalid-json]]";
    private static final String MALFORMED = "{\"category\": \"billing\", \"priority\": ";

    /** How an answer ends: as a whole, cut off at the length limit, or refused. */
    enum Finish {
        STOP,
        LENGTH,
        REFUSAL
    }

    /** The assistant's content and how it ended. */
    record Answer(String content, Finish finish) {}

    private final String model;
    private final ProviderProfile profile;
    private final LocalModelServer.Triager triager;
    private final ServerCounters counters;
    private final AtomicLong ids = new AtomicLong();

    AnswerProducer(
            String model,
            ProviderProfile profile,
            LocalModelServer.Triager triager,
            ServerCounters counters) {
        this.model = model;
        this.profile = profile;
        this.triager = triager;
        this.counters = counters;
    }

    /** The model's answer, or one of the profile's bad answers. */
    Answer answer(ChatRequest request) throws ChatRequest.BadRequest {
        PromptFormat.Conversation c = request.conversation();
        String message = c.ticketMessage();
        if (message.contains(SIMULATE_BAD_REQUEST)) {
            throw new ChatRequest.BadRequest("simulated bad request");
        }
        if (message.contains(SIMULATE_INVALID_JSON)
                || ProviderProfile.chance(profile.malformedRate())) {
            counters.malformed.incrementAndGet();
            return new Answer(MALFORMED, Finish.STOP);
        }
        String content =
                triager.triage(
                                request.allowedCategories(c.system()),
                                c.system(),
                                c.ticket(),
                                c.earlierTurns())
                        .toString();
        if (ProviderProfile.chance(profile.truncatedRate())) {
            counters.truncated.incrementAndGet();
            return new Answer(content.substring(0, content.length() / 2), Finish.LENGTH);
        }
        if (ProviderProfile.chance(profile.refusalRate())) {
            counters.refusals.incrementAndGet();
            return new Answer("", Finish.REFUSAL);
        }
        return new Answer(content, Finish.STOP);
    }

    /** The chat completion body for {@code answer}, with the usage a provider would report. */
    String completion(ChatRequest request, Answer answer) {
        ObjectNode root = Json.object();
        root.put("id", "chatcmpl-local-" + ids.incrementAndGet());
        root.put("object", "chat.completion");
        root.put("created", System.currentTimeMillis() / 1000);
        root.put("model", request.json().path("model").asText(model));
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message").put("role", "assistant");
        if (answer.finish() == Finish.REFUSAL) {
            message.putNull("content").put("refusal", "I'm sorry, I can't help with that.");
        } else {
            message.put("content", answer.content()).putNull("refusal");
        }
        choice.put("finish_reason", answer.finish() == Finish.LENGTH ? "length" : "stop");
        int prompt = Math.max(1, request.promptTokens());
        int completion = Math.max(1, answer.content().length() / 4);
        root.putObject("usage")
                .put("prompt_tokens", prompt)
                .put("completion_tokens", completion)
                .put("total_tokens", prompt + completion);
        return root.toString();
    }
}
