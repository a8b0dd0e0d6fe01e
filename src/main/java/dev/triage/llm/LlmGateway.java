package dev.triage.llm;

import dev.triage.config.GatewaySettings;
import dev.triage.config.LlmSettings;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The job's way to its model endpoints, per subtask: which endpoint the next call goes to and when
 * (circuit breakers, this subtask's share of each endpoint's rate limits), how many calls may be in
 * flight (adaptive concurrency), and what an outcome teaches about the endpoint. It decides nothing
 * about tickets; the operator does. Not thread-safe: used on the task thread only.
 *
 * <p>Over 300 lines because it composes the per-endpoint parts (each its own class: {@link
 * CircuitBreaker}, {@link ProviderRateLimiter}, {@link AdaptiveConcurrency}, {@link
 * OutcomeHistory}) and holds the one routing rule among them; what it learns from an outcome is
 * spelled out per kind of failure.
 */
public final class LlmGateway implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LlmGateway.class);
    private static final long LOUD_LOG_INTERVAL_MS = 60_000;

    /**
     * Where the next call goes: an endpoint now, or nowhere for {@code waitMillis}. {@code probe}:
     * the call is the probe of a half-open circuit; hand it back with the outcome. {@code
     * answersAtSend}: how many answers the endpoint had given when the call was routed (it goes out
     * at once); {@code evidenceFrom}: the count a failure must be beyond to use up one of the
     * ticket's chances, by default {@code answersAtSend} (see {@link #since}); {@code caller}: who
     * made the call (a session's hash, see {@link #by}), so that a ticket's own failures are not
     * taken as the endpoint's failure rate.
     */
    public record Route(
            Endpoint endpoint,
            long waitMillis,
            boolean probe,
            long generation,
            long answersAtSend,
            long evidenceFrom,
            int caller) {
        public boolean go() {
            return endpoint != null;
        }

        /**
         * The same call, judged on the answers since an earlier count: that of the ticket's
         * previous call to the same endpoint, so that answers to other calls while the ticket
         * waited for its retry count as evidence too (with one call in flight at a time, nothing
         * else can be answered while the call itself is out).
         */
        public Route since(long answers) {
            return new Route(
                    endpoint,
                    waitMillis,
                    probe,
                    generation,
                    answersAtSend,
                    Math.min(evidenceFrom, answers),
                    caller);
        }

        /** The same call, made for {@code caller} (a session's hash). */
        public Route by(int caller) {
            return new Route(
                    endpoint, waitMillis, probe, generation, answersAtSend, evidenceFrom, caller);
        }
    }

    /** What a failure means for the ticket whose call failed. */
    public enum Verdict {
        /**
         * The provider was healthy and failed this call: it uses up one of the ticket's chances.
         * Healthy means the circuit stayed closed from send to failure, and the endpoint answered
         * some other request meanwhile: from one ticket's failures alone, an outage and a ticket
         * the provider cannot answer look the same, and an outage must never dead-letter.
         */
        COUNTS,
        /**
         * Not the ticket's fault and no measure of its chances: the circuit is (or went) open, the
         * call was a probe or a straggler, the provider is busy (retryable 429), or it rejects
         * every request (key, model, quota). The ticket waits.
         */
        WAIT,
        /** The provider rejected this one request (400, 422...): the ticket cannot be answered. */
        REJECTED
    }

    /** An endpoint's client, breaker, rate limiter and outcome history. */
    private static final class Link {
        final LlmSettings settings;
        final LlmClient client;
        final CircuitBreaker breaker;
        final ProviderRateLimiter limiter;
        final OutcomeHistory history = new OutcomeHistory();
        long lastLoudLog = Long.MIN_VALUE;

        /**
         * Answers the endpoint gave (a reply, or a 4xx about one request): a count, not a time, so
         * that a wall clock stepped back cannot make an old answer look new.
         */
        long answers;

        Link(LlmSettings s, LlmClient c, CircuitBreaker b, ProviderRateLimiter l) {
            settings = s;
            client = c;
            breaker = b;
            limiter = l;
        }
    }

    private final List<Link> endpoints = new ArrayList<>();
    private final AdaptiveConcurrency concurrency;
    private final long maxAdvisedWait;
    private final int maxInFlight;
    private final int maxAttempts;

    /**
     * Slow start: after a restore or an outage, calls in flight may grow by one per answer, from
     * {@code minConcurrency} up to the limit, so a recovering provider is not hit by a burst.
     */
    private int ramp;

    private final int settingsMinConcurrency;

    /**
     * @param parallelism the operator's parallelism: each subtask takes an even share of the job's
     *     rate limits, and a rescale (which re-opens the operator) splits them again
     */
    public LlmGateway(
            GatewaySettings settings,
            LlmClientFactory clients,
            int maxInFlight,
            int parallelism,
            long now,
            boolean restored) {
        for (LlmSettings s : settings.endpoints()) {
            ProviderRateLimiter limiter =
                    s.requestsPerMinute() > 0 || s.tokensPerMinute() > 0
                            ? new ProviderRateLimiter(
                                    s.requestsPerMinute() / (double) parallelism,
                                    s.tokensPerMinute() / (double) parallelism,
                                    1.0,
                                    now)
                            : null;
            endpoints.add(
                    new Link(
                            s,
                            clients.create(s),
                            new CircuitBreaker(
                                    settings.breakerFailureRate(),
                                    settings.breakerWindow(),
                                    settings.breakerOpenFor().toMillis(),
                                    settings.breakerMaxOpenFor().toMillis()),
                            limiter));
        }
        this.settingsMinConcurrency = Math.max(1, settings.minConcurrency());
        this.concurrency =
                new AdaptiveConcurrency(
                        settings.adaptiveConcurrency(), settings.minConcurrency(), maxInFlight);
        this.maxAdvisedWait = settings.maxAdvisedWait().toMillis();
        this.maxInFlight = maxInFlight;
        this.maxAttempts = settings.maxAttempts();
        this.ramp = maxInFlight;
        if (restored) {
            // The state of the provider died with the old process: probe first, then ramp up.
            for (Link e : endpoints) {
                e.breaker.startUnknown();
            }
            startRamp();
        }
    }

    private void startRamp() {
        ramp = Math.max(1, Math.min(settingsMinConcurrency, maxInFlight));
    }

    /**
     * Picks the endpoint for a call of about {@code tokens} tokens and takes its rate budget: the
     * primary while its circuit lets calls through, else the fallback. A rate-limited primary makes
     * the call wait rather than spill over: the fallback is for outages and rejections.
     *
     * @param fallbackOnly the primary rejected this ticket: only the fallback may answer it
     */
    public Route route(long now, int tokens, boolean fallbackOnly) {
        long wait = Long.MAX_VALUE;
        for (int i = fallbackOnly ? 1 : 0; i < endpoints.size(); i++) {
            Link e = endpoints.get(i);
            long breakerWait = e.breaker.waitMillis(now);
            if (breakerWait > 0) {
                wait = Math.min(wait, breakerWait);
                continue;
            }
            long budgetWait = e.limiter == null ? 0 : e.limiter.tryAcquire(now, tokens);
            if (budgetWait > 0) {
                return new Route(null, budgetWait, false, 0, e.answers, e.answers, 0);
            }
            long generation = e.breaker.generation();
            return new Route(
                    Endpoint.at(i), 0, e.breaker.onSend(), generation, e.answers, e.answers, 0);
        }
        return new Route(null, wait == Long.MAX_VALUE ? 1000 : wait, false, 0, 0, 0, 0);
    }

    public LlmClient client(Endpoint endpoint) {
        return endpoints.get(endpoint.ordinal()).client;
    }

    public LlmSettings settings(Endpoint endpoint) {
        return endpoints.get(endpoint.ordinal()).settings;
    }

    public boolean hasFallback() {
        return endpoints.size() > 1;
    }

    /** Calls that may be in flight on this subtask now. */
    public int concurrencyLimit() {
        return Math.min(ramp, concurrency.limit());
    }

    /** Every endpoint's circuit is open: the provider is down, so tickets wait, not fail. */
    public boolean outage() {
        for (Link e : endpoints) {
            if (e.breaker.state() == CircuitBreaker.State.CLOSED) {
                return false;
            }
        }
        return true;
    }

    public CircuitBreaker.State circuit(Endpoint endpoint) {
        return endpoints.get(endpoint.ordinal()).breaker.state();
    }

    public long circuitOpenings(Endpoint endpoint) {
        return endpoints.get(endpoint.ordinal()).breaker.openings();
    }

    /** The request rate this subtask allows itself now on the endpoint; -1 without a limit. */
    public double allowedRequestsPerMinute(Endpoint endpoint) {
        ProviderRateLimiter l = endpoints.get(endpoint.ordinal()).limiter;
        return l == null ? -1 : l.currentRequestsPerMinute();
    }

    /** The endpoint answered. {@code inFlight} counts this call. */
    public void onReply(Route sent, long now, LlmReply reply, int inFlight) {
        Link e = endpoints.get(sent.endpoint().ordinal());
        e.answers++;
        e.history.record(sent.caller(), false);
        closedIfOpen(e, now, sent);
        if (ramp < maxInFlight) {
            ramp++;
        }
        if (e.limiter != null) {
            e.limiter.onSuccess();
            long exhausted = reply.rateLimit().exhaustedForMillis();
            if (exhausted > 0) {
                e.limiter.onBudgetExhausted(now, Math.min(exhausted, maxAdvisedWait));
            }
        }
        concurrency.onSuccess(inFlight);
    }

    /** A call failed; learn what it says about the endpoint, and what it means for the ticket. */
    public Verdict onFailure(Route sent, long now, LlmException failure) {
        Endpoint endpoint = sent.endpoint();
        boolean probe = sent.probe();
        Link e = endpoints.get(endpoint.ordinal());
        // Counts only if the circuit has been closed since the call went out (same generation), and
        // the endpoint answered another request since (since the ticket's previous call, see
        // Route.since): it was up, so the failure is about this call. A sparse outage (too few
        // calls for the breaker to judge) shows no such evidence, and so never uses up a ticket's
        // chances.
        boolean closedSinceSend =
                e.breaker.state() == CircuitBreaker.State.CLOSED
                        && e.breaker.generation() == sent.generation();
        boolean answeredMeanwhile = e.answers > sent.evidenceFrom();
        if (failure.status() == 429 && failure.retriable()) {
            closedIfOpen(e, now, sent); // it answers: up, but busy
            if (e.limiter != null) {
                e.limiter.onRateLimited(now, failure.retryAfterMillis());
            }
            concurrency.onOverload();
            return Verdict.WAIT;
        }
        if (failure.retriable()) {
            e.history.record(sent.caller(), true);
            if (failure.kind() == LlmException.Kind.TIMEOUT) {
                concurrency.onOverload();
            }
            if (e.breaker.onFailure(now, failure.getMessage(), probe, sent.generation())) {
                LOG.warn(
                        "Circuit of the {} endpoint ({}) is OPEN ({}). {} Probe calls follow.",
                        e.settings.name(),
                        e.settings.baseUrl(),
                        e.breaker.reason(),
                        hasFallback() && endpoint == Endpoint.PRIMARY
                                ? "Calls go to the fallback endpoint."
                                : "No calls go out: tickets wait in state (up to"
                                        + " session.max-backlog per subtask), then the input is"
                                        + " backpressured. No ticket is lost or dead-lettered"
                                        + " for it.");
            }
            boolean stillClosed = e.breaker.state() == CircuitBreaker.State.CLOSED;
            return closedSinceSend && stillClosed && answeredMeanwhile && !probe
                    ? Verdict.COUNTS
                    : Verdict.WAIT;
        }
        if (failure.kind() == LlmException.Kind.HTTP_STATUS) {
            if (rejectsEveryRequest(failure)) {
                if (e.lastLoudLog == Long.MIN_VALUE
                        || now - e.lastLoudLog >= LOUD_LOG_INTERVAL_MS) {
                    e.lastLoudLog = now;
                    LOG.error(
                            "The {} endpoint ({}) rejects requests: {}. {} Check the API key"
                                    + " (llm.api-key-env / llm.api-key-file), the model name, the"
                                    + " base URL and proxy (redirects are not followed) and the"
                                    + " account's quota. (Logged at most once a minute.)",
                            e.settings.name(),
                            e.settings.baseUrl(),
                            failure.getMessage(),
                            hasFallback() && endpoint == Endpoint.PRIMARY
                                    ? "Tickets go to the fallback endpoint."
                                    : "Its circuit is open: tickets wait in state (up to"
                                            + " session.max-backlog per subtask, then the input is"
                                            + " backpressured) and the endpoint is probed now and"
                                            + " then; nothing is dead-lettered for it.");
                }
                if (e.breaker.forceOpen(now, failure.getMessage())) {
                    LOG.warn(
                            "Circuit of the {} endpoint is OPEN: it rejects every request. {}",
                            e.settings.name(),
                            hasFallback() && endpoint == Endpoint.PRIMARY
                                    ? "Calls go to the fallback; the primary is probed now and then."
                                    : "The endpoint is probed now and then.");
                }
                return Verdict.WAIT;
            }
            e.answers++;
            e.history.record(sent.caller(), false);
            closedIfOpen(e, now, sent); // it answers: up, but it rejects this request
            return Verdict.REJECTED;
        }
        // A 200 that is not a chat completion: maybe a proxy's maintenance page, so no evidence
        // that the provider is up (the breaker still takes it as an answer).
        closedIfOpen(e, now, sent);
        return Verdict.REJECTED;
    }

    /**
     * How many counted failures make the ticket of a call one the endpoint cannot answer: {@code
     * llm.max-attempts}, or more while the endpoint fails other sessions' calls too, until such a
     * run of failures would be a one-in-a-million chance (see {@link OutcomeHistory}).
     */
    public int chancesNeeded(Route sent) {
        return endpoints
                .get(sent.endpoint().ordinal())
                .history
                .chancesNeeded(sent.caller(), maxAttempts);
    }

    /**
     * The ticket of {@code caller} (a session's hash) ended, answered or not: its failures are no
     * longer waiting for an answer on any endpoint (see {@link OutcomeHistory}).
     */
    public void ticketEnded(int caller) {
        for (Link e : endpoints) {
            e.history.forget(caller);
        }
    }

    /**
     * 401, 403, 404, a proxy's 407, exhausted quota and any redirect (redirects are not followed: a
     * base URL that moved, plain http sent to https, or a proxy's login portal answering the
     * CONNECT) concern every request to the endpoint, not one ticket.
     */
    public static boolean rejectsEveryRequest(LlmException failure) {
        int s = failure.status();
        return s == 401
                || s == 403
                || s == 404
                || s == 407
                || (s >= 300 && s < 400)
                || (s == 429 && !failure.retriable());
    }

    private void closedIfOpen(Link e, long now, Route sent) {
        if (e.breaker.onSuccess(sent.probe(), sent.generation())) {
            startRamp();
            LOG.info(
                    "Circuit of the {} endpoint is CLOSED again after {} ms: calls resume.",
                    e.settings.name(),
                    now - e.breaker.openedAt());
        }
    }

    @Override
    public void close() {
        for (Link e : endpoints) {
            e.client.close();
        }
    }
}
