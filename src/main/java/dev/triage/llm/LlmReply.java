package dev.triage.llm;

/**
 * A chat completion as the server returned it. {@code content} may be null (a refusal or a tool
 * call); {@code finishReason} "length" means the answer was cut off.
 */
public record LlmReply(
        String content,
        String finishReason,
        String refusal,
        String model,
        int promptTokens,
        int completionTokens) {}
