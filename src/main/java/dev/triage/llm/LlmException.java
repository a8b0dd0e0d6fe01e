package dev.triage.llm;

/**
 * A failed call. {@link #retriable()} says whether trying again may succeed; the message never
 * contains request headers, so never the API key.
 */
public class LlmException extends Exception {

    /** What failed. */
    public enum Kind {
        /**
         * Connect, read or request timeout, connection reset: the server may be fine again soon.
         */
        TRANSPORT,
        /** The attempt's request timeout passed without an answer. */
        TIMEOUT,
        /** The server answered with an error status. */
        HTTP_STATUS,
        /** The server answered 200 with a body that is not a chat completion. */
        INVALID_RESPONSE
    }

    private final Kind kind;
    private final int status;
    private final boolean retriable;
    private final String responseBody;
    private final long retryAfterMillis;

    public LlmException(
            Kind kind, int status, boolean retriable, String message, String responseBody) {
        this(kind, status, retriable, message, responseBody, -1);
    }

    public LlmException(
            Kind kind,
            int status,
            boolean retriable,
            String message,
            String responseBody,
            long retryAfterMillis) {
        super(message);
        this.kind = kind;
        this.status = status;
        this.retriable = retriable;
        this.responseBody = responseBody;
        this.retryAfterMillis = retryAfterMillis;
    }

    /** The wait the server advised (retry-after-ms or Retry-After), or -1 when it advised none. */
    public long retryAfterMillis() {
        return retryAfterMillis;
    }

    public Kind kind() {
        return kind;
    }

    /** HTTP status, or 0 when no response arrived. */
    public int status() {
        return status;
    }

    public boolean retriable() {
        return retriable;
    }

    /** The (truncated) response body, when there was one. */
    public String responseBody() {
        return responseBody;
    }
}
