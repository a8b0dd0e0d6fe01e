package dev.triage.llm;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.function.Function;

/**
 * What an error response says about trying again, read the way the official OpenAI SDKs read it:
 * {@code x-should-retry} overrides the status; the wait comes from {@code retry-after-ms}, else
 * {@code Retry-After} (seconds or an HTTP date). A 429 for exhausted quota is never retried.
 */
public final class RetryAdvice {

    private RetryAdvice() {}

    /** Whether a response with this status and body (and headers) is worth retrying. */
    public static boolean isRetriable(int status, String body, Function<String, String> headers) {
        String shouldRetry = headers.apply("x-should-retry");
        if ("true".equalsIgnoreCase(shouldRetry)) {
            return true;
        }
        if ("false".equalsIgnoreCase(shouldRetry)) {
            return false;
        }
        if (status == 429) {
            return !isQuotaExhausted(body);
        }
        return status == 408 || status == 409 || status >= 500;
    }

    /** Billing limits, not rate limits: waiting does not help. */
    public static boolean isQuotaExhausted(String body) {
        return body != null
                && (body.contains("insufficient_quota")
                        || body.contains("credit_balance")
                        || body.contains("spend_limit_exceeded"));
    }

    /** The advised wait in milliseconds, or -1 when the response advises none. */
    public static long retryAfterMillis(Function<String, String> headers, Instant now) {
        String ms = headers.apply("retry-after-ms");
        if (ms != null) {
            try {
                return Math.max(0, Math.round(Double.parseDouble(ms.trim())));
            } catch (NumberFormatException ignored) {
                // fall through to Retry-After
            }
        }
        String after = headers.apply("retry-after");
        if (after == null || after.isBlank()) {
            return -1;
        }
        try {
            return Math.max(0, Math.round(Double.parseDouble(after.trim()) * 1000));
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at =
                        ZonedDateTime.parse(after.trim(), DateTimeFormatter.RFC_1123_DATE_TIME)
                                .toInstant();
                return Math.max(0, at.toEpochMilli() - now.toEpochMilli());
            } catch (DateTimeParseException notADate) {
                return -1;
            }
        }
    }

    /**
     * The wait before the next attempt: the server's advice when it gave one (capped at {@code
     * maxAdvisedMillis}), else {@code min(initial * 2^(attempts-1), max)} minus up to 25% jitter.
     */
    public static long backoffMillis(
            int attemptsSoFar,
            long advisedMillis,
            long initialMillis,
            long maxMillis,
            long maxAdvisedMillis,
            double random) {
        if (advisedMillis >= 0) {
            return Math.min(advisedMillis, maxAdvisedMillis);
        }
        long exp =
                Math.min(maxMillis, initialMillis << Math.min(20, Math.max(0, attemptsSoFar - 1)));
        return exp - (long) (exp * 0.25 * random);
    }
}
