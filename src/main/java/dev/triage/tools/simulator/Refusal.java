package dev.triage.tools.simulator;

import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Map;

/** What a fault does to a chat request instead of answering it. */
sealed interface Refusal {

    /** The connection closes after the request was read, with no answer. */
    record Drop() implements Refusal {}

    /** No answer at all: the client's timeout has to fire. */
    record Hold() implements Refusal {}

    /** An error answer. */
    record Respond(HttpResponseStatus status, String body, Map<String, String> headers)
            implements Refusal {}

    Refusal DROP = new Drop();
    Refusal HOLD = new Hold();

    /** An OpenAI-style error answer. */
    static Refusal error(
            HttpResponseStatus status,
            String message,
            String type,
            String code,
            Map<String, String> headers) {
        return new Respond(status, HttpReplies.error(message, type, code), headers);
    }

    static Refusal error(HttpResponseStatus status, String message, String type, String code) {
        return error(status, message, type, code, Map.of());
    }
}
