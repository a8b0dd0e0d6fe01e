package dev.triage.llm;

/**
 * A chat completion as the server returned it. {@code content} may be null (a refusal or a tool
 * call); {@code finishReason} "length" means the answer was cut off; {@code rateLimit} is what the
 * response's x-ratelimit-* headers said.
 */
public record LlmReply(
        String content,
        String finishReason,
        String refusal,
        String model,
        int promptTokens,
        int completionTokens,
        RateLimitStatus rateLimit) {

    public LlmReply {
        if (rateLimit == null) {
            rateLimit = RateLimitStatus.UNKNOWN;
        }
    }

    public LlmReply(
            String content,
            String finishReason,
            String refusal,
            String model,
            int promptTokens,
            int completionTokens) {
        this(
                content,
                finishReason,
                refusal,
                model,
                promptTokens,
                completionTokens,
                RateLimitStatus.UNKNOWN);
    }
}
