package dev.triage.llm;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * An asynchronous chat-completions client. Futures complete on an I/O thread, with an {@link
 * LlmReply} or exceptionally with an {@link LlmException}; implementations never block the caller.
 */
public interface LlmClient extends AutoCloseable {

    /**
     * Sends one chat request.
     *
     * @param messages the conversation, system prompt first
     * @param answerSchema JSON schema the answer must follow
     */
    CompletableFuture<LlmReply> complete(List<ChatMessage> messages, JsonNode answerSchema);

    @Override
    void close();
}
