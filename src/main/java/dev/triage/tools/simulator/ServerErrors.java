package dev.triage.tools.simulator;

import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.concurrent.ThreadLocalRandom;

/** A share of requests answered 500, 502 or 503, chosen at random. */
record ServerErrors(double rate, ServerCounters counters) implements Fault {
    private static final HttpResponseStatus[] CHOICES = {
        HttpResponseStatus.INTERNAL_SERVER_ERROR,
        HttpResponseStatus.BAD_GATEWAY,
        HttpResponseStatus.SERVICE_UNAVAILABLE
    };

    @Override
    public Refusal apply(ChatCall call) {
        if (ProviderProfile.chance(rate)) {
            counters.serverErrors.incrementAndGet();
            return Refusal.error(
                    CHOICES[ThreadLocalRandom.current().nextInt(CHOICES.length)],
                    "The server had an error while processing your request.",
                    "server_error",
                    null);
        }
        return null;
    }
}
