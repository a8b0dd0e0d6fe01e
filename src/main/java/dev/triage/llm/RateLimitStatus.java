package dev.triage.llm;

import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the provider's {@code x-ratelimit-*} headers say (OpenAI, Azure); -1 where a header is
 * absent. Resets are Go-style durations such as {@code 12ms}, {@code 6m0s} or {@code 1.5s}.
 */
public record RateLimitStatus(
        long limitRequests,
        long remainingRequests,
        long resetRequestsMillis,
        long limitTokens,
        long remainingTokens,
        long resetTokensMillis) {

    public static final RateLimitStatus UNKNOWN = new RateLimitStatus(-1, -1, -1, -1, -1, -1);

    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|h|m|s)");

    public static RateLimitStatus from(Function<String, String> headers) {
        RateLimitStatus s =
                new RateLimitStatus(
                        number(headers.apply("x-ratelimit-limit-requests")),
                        number(headers.apply("x-ratelimit-remaining-requests")),
                        duration(headers.apply("x-ratelimit-reset-requests")),
                        number(headers.apply("x-ratelimit-limit-tokens")),
                        number(headers.apply("x-ratelimit-remaining-tokens")),
                        duration(headers.apply("x-ratelimit-reset-tokens")));
        return s.equals(UNKNOWN) ? UNKNOWN : s;
    }

    /**
     * How long the provider says no budget is left: the reset time of a budget whose remaining
     * count is 0; 0 when budget remains or nothing is known.
     */
    public long exhaustedForMillis() {
        long wait = 0;
        if (remainingRequests == 0) {
            wait = Math.max(wait, Math.max(resetRequestsMillis, 1));
        }
        if (remainingTokens == 0) {
            wait = Math.max(wait, Math.max(resetTokensMillis, 1));
        }
        return wait;
    }

    static long number(String value) {
        if (value == null || value.isBlank()) {
            return -1;
        }
        try {
            return Math.max(0, Long.parseLong(value.trim()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Parses a Go duration ({@code 1m30.5s}, {@code 250ms}, {@code 2h}); -1 when it is not one. */
    static long duration(String value) {
        if (value == null || value.isBlank()) {
            return -1;
        }
        String v = value.trim();
        Matcher m = PART.matcher(v);
        double millis = 0;
        int end = 0;
        while (m.find()) {
            if (m.start() != end) {
                return -1;
            }
            double n = Double.parseDouble(m.group(1));
            millis +=
                    switch (m.group(2)) {
                        case "h" -> n * 3_600_000;
                        case "m" -> n * 60_000;
                        case "s" -> n * 1000;
                        default -> n;
                    };
            end = m.end();
        }
        return end == v.length() && end > 0 ? Math.round(millis) : -1;
    }
}
