package dev.triage.llm;

import java.util.List;

/**
 * What a request costs against a tokens-per-minute limit, counted the way providers count it before
 * they run the model: an estimate of the prompt (about four characters a token for English, plus a
 * few tokens of framing per message) plus the whole output limit, whatever the answer's real
 * length.
 */
public final class TokenEstimate {

    private static final int TOKENS_PER_MESSAGE = 4;

    private TokenEstimate() {}

    public static int promptTokens(List<ChatMessage> messages) {
        long chars = 0;
        for (ChatMessage m : messages) {
            chars += m.content().length();
        }
        return (int)
                Math.min(Integer.MAX_VALUE, (chars + 3) / 4 + TOKENS_PER_MESSAGE * messages.size());
    }

    public static int requestTokens(List<ChatMessage> messages, int maxOutputTokens) {
        return promptTokens(messages) + maxOutputTokens;
    }
}
