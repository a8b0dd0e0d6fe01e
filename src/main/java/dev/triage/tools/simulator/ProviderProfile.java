package dev.triage.tools.simulator;

import dev.triage.io.Json;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How the local model server behaves like a real provider: its latency distribution, its request
 * and token limits (429 with OpenAI-style {@code Retry-After} and {@code x-ratelimit-*} headers, or
 * bare 429s like a gateway in front of vLLM), how many requests it works on at once (503 beyond, as
 * Ollama does when its queue is full), and the rates of the faults real providers have: 5xx,
 * requests that never get an answer, requests dropped after they were read, malformed, truncated
 * and refused answers, an exhausted quota or a rejected key, and an outage window. Profiles are
 * YAML files; the project ships some in {@code src/main/resources/profiles/}. Every field is
 * optional: absent means no such fault.
 *
 * @param latencyMedianMs median answer time
 * @param latencyP99Ms 99th percentile (log-normal between them); at or below the median: fixed
 * @param rpm requests per minute before 429s; 0: no limit
 * @param tpm tokens per minute (estimated prompt + max_tokens of the request) before 429s; 0: none
 * @param rateLimitHeaders whether answers carry Retry-After and x-ratelimit-* headers
 * @param maxConcurrency requests worked on at once; beyond, 503 at once; 0: unlimited
 * @param serverErrorRate share of requests answered 500, 502 or 503
 * @param timeoutRate share of requests that never get an answer
 * @param malformedRate share of answers that are not valid JSON
 * @param truncatedRate share of answers cut off with finish_reason "length"
 * @param refusalRate share of answers with null content and a refusal
 * @param permanent null, "401" (every request rejected) or "quota" (429 insufficient_quota)
 * @param outageAfterMs when, after start, an outage begins; negative: none
 * @param outageMs how long the outage lasts
 * @param outageStatus the status every request gets during the outage
 * @param dropRate share of requests read in full and then left with their connection closed and no
 *     answer (a proxy or load balancer dropping them), the fault that makes a client resend
 */
public record ProviderProfile(
        String name,
        long latencyMedianMs,
        long latencyP99Ms,
        int rpm,
        int tpm,
        boolean rateLimitHeaders,
        int maxConcurrency,
        double serverErrorRate,
        double timeoutRate,
        double malformedRate,
        double truncatedRate,
        double refusalRate,
        String permanent,
        long outageAfterMs,
        long outageMs,
        int outageStatus,
        double dropRate) {

    public static final ProviderProfile NONE =
            new ProviderProfile("none", 0, 0, 0, 0, true, 0, 0, 0, 0, 0, 0, null, -1, 0, 503, 0);

    /** Loads a profile by name from the shipped ones ({@code openai-tier1}) or from a file. */
    public static ProviderProfile load(String nameOrFile) throws IOException {
        return ProfileYaml.load(nameOrFile);
    }

    /** Reads a profile from YAML; {@code source} names it in errors and is its default name. */
    static ProviderProfile parse(InputStream yaml, String source) throws IOException {
        return ProfileYaml.parse(yaml, source);
    }

    public ProviderProfile withLatency(long medianMs, long p99Ms) {
        Copy c = new Copy(this);
        c.latencyMedianMs = medianMs;
        c.latencyP99Ms = p99Ms;
        return c.build();
    }

    public ProviderProfile withRateLimits(
            int requestsPerMinute, int tokensPerMinute, boolean headers) {
        Copy c = new Copy(this);
        c.rpm = requestsPerMinute;
        c.tpm = tokensPerMinute;
        c.rateLimitHeaders = headers;
        return c.build();
    }

    public ProviderProfile withFaultRates(
            double serverErrors,
            double timeouts,
            double malformed,
            double truncated,
            double refusals) {
        Copy c = new Copy(this);
        c.serverErrorRate = serverErrors;
        c.timeoutRate = timeouts;
        c.malformedRate = malformed;
        c.truncatedRate = truncated;
        c.refusalRate = refusals;
        return c.build();
    }

    public ProviderProfile withPermanentFailure(String kind) {
        Copy c = new Copy(this);
        c.permanent = kind;
        return c.build();
    }

    public ProviderProfile withOutage(Duration after, Duration duration) {
        Copy c = new Copy(this);
        c.outageAfterMs = after.toMillis();
        c.outageMs = duration.toMillis();
        return c.build();
    }

    public ProviderProfile withDropRate(double rate) {
        Copy c = new Copy(this);
        c.dropRate = rate;
        return c.build();
    }

    /** A profile's fields to change one or two of: the withers above say which. */
    private static final class Copy {
        String name;
        long latencyMedianMs;
        long latencyP99Ms;
        int rpm;
        int tpm;
        boolean rateLimitHeaders;
        int maxConcurrency;
        double serverErrorRate;
        double timeoutRate;
        double malformedRate;
        double truncatedRate;
        double refusalRate;
        String permanent;
        long outageAfterMs;
        long outageMs;
        int outageStatus;
        double dropRate;

        Copy(ProviderProfile p) {
            name = p.name;
            latencyMedianMs = p.latencyMedianMs;
            latencyP99Ms = p.latencyP99Ms;
            rpm = p.rpm;
            tpm = p.tpm;
            rateLimitHeaders = p.rateLimitHeaders;
            maxConcurrency = p.maxConcurrency;
            serverErrorRate = p.serverErrorRate;
            timeoutRate = p.timeoutRate;
            malformedRate = p.malformedRate;
            truncatedRate = p.truncatedRate;
            refusalRate = p.refusalRate;
            permanent = p.permanent;
            outageAfterMs = p.outageAfterMs;
            outageMs = p.outageMs;
            outageStatus = p.outageStatus;
            dropRate = p.dropRate;
        }

        ProviderProfile build() {
            return new ProviderProfile(
                    name,
                    latencyMedianMs,
                    latencyP99Ms,
                    rpm,
                    tpm,
                    rateLimitHeaders,
                    maxConcurrency,
                    serverErrorRate,
                    timeoutRate,
                    malformedRate,
                    truncatedRate,
                    refusalRate,
                    permanent,
                    outageAfterMs,
                    outageMs,
                    outageStatus,
                    dropRate);
        }
    }

    /** One answer time drawn from the latency distribution. */
    long sampleLatencyMs() {
        if (latencyMedianMs <= 0) {
            return 0;
        }
        if (latencyP99Ms <= latencyMedianMs) {
            return latencyMedianMs;
        }
        double sigma = Math.log((double) latencyP99Ms / latencyMedianMs) / 2.326;
        double z = ThreadLocalRandom.current().nextGaussian();
        return Math.max(0, Math.round(latencyMedianMs * Math.exp(sigma * z)));
    }

    static boolean chance(double rate) {
        return rate > 0 && ThreadLocalRandom.current().nextDouble() < rate;
    }

    /** A one-line description for logs. */
    public String describe() {
        ObjectNodeBuilder b = new ObjectNodeBuilder();
        b.put("latency_median_ms", latencyMedianMs, 0);
        b.put("latency_p99_ms", latencyP99Ms, 0);
        b.put("rpm", rpm, 0);
        b.put("tpm", tpm, 0);
        b.put("max_concurrency", maxConcurrency, 0);
        b.put("server_error_rate", serverErrorRate);
        b.put("timeout_rate", timeoutRate);
        b.put("malformed_rate", malformedRate);
        b.put("truncated_rate", truncatedRate);
        b.put("refusal_rate", refusalRate);
        b.put("drop_rate", dropRate);
        if (permanent != null) {
            b.node.put("fail_permanently", permanent);
        }
        if (outageAfterMs >= 0) {
            b.node.put("outage_after_ms", outageAfterMs).put("outage_ms", outageMs);
        }
        if ((rpm > 0 || tpm > 0) && !rateLimitHeaders) {
            b.node.put("rate_limit_headers", false);
        }
        return name + " " + b.node;
    }

    private static final class ObjectNodeBuilder {
        final com.fasterxml.jackson.databind.node.ObjectNode node = Json.object();

        void put(String k, long v, long skip) {
            if (v != skip) {
                node.put(k, v);
            }
        }

        void put(String k, double v) {
            if (v > 0) {
                node.put(k, v);
            }
        }
    }
}
