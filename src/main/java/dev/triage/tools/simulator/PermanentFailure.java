package dev.triage.tools.simulator;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * A provider that refuses everything: a rejected key (401) or an exhausted quota (429 {@code
 * insufficient_quota}), the faults a client must not retry.
 *
 * @param kind the profile's {@code permanent}: "401", "quota" or null (none)
 */
record PermanentFailure(String kind, ServerCounters counters) implements Fault {
    @Override
    public Refusal apply(ChatCall call) {
        if ("401".equals(kind)) {
            counters.permanentErrors.incrementAndGet();
            // Like some real providers, the message echoes the key it got.
            String auth = call.authorization();
            String key = auth == null ? "(none)" : auth.replaceFirst("^Bearer ", "");
            return Refusal.error(
                    HttpResponseStatus.UNAUTHORIZED,
                    "Incorrect API key provided: " + key + ".",
                    "invalid_request_error",
                    "invalid_api_key");
        }
        if ("quota".equals(kind)) {
            counters.permanentErrors.incrementAndGet();
            return Refusal.error(
                    HttpResponseStatus.TOO_MANY_REQUESTS,
                    "You exceeded your current quota.",
                    "insufficient_quota",
                    "insufficient_quota");
        }
        return null;
    }
}
