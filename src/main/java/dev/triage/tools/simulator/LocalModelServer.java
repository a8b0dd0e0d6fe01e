package dev.triage.tools.simulator;

import dev.triage.io.Json;
import dev.triage.prompt.TicketBlock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The project's stand-in for an LLM provider: an OpenAI-compatible HTTP server ({@code POST
 * /v1/chat/completions}, {@code GET /v1/models}, {@code GET /health}, {@code GET /stats}) that
 * answers with schema-valid triage JSON from {@link RuleBasedTriager}. Non-blocking (Netty): a
 * simulated latency holds thousands of requests without a thread each.
 *
 * <p>Faults on demand, for chaos runs: {@code POST /admin/outage?seconds=S} (503 to everything) and
 * {@code POST /admin/faults?seconds=S&drop=R&throttle=R&latency-ms=N} (for S seconds, a share R of
 * chat requests dropped after they were read, a share R answered 429 with {@code Retry-After: 1},
 * every answer N ms slower; a missing parameter is 0, a bad one a 400).
 *
 * <p>Simulation markers in a ticket's text, for tests and demos: {@code [[simulate:invalid-json]]}
 * answers with broken JSON, {@code [[simulate:400]]} answers HTTP 400.
 */
public final class LocalModelServer implements AutoCloseable {

    /** Server options. */
    public record Options(
            String host,
            int port,
            String model,
            ProviderProfile profile,
            Consumer<JsonNode> onRequest,
            Triager triager) {
        public Options {
            if (model == null) {
                model = "local-triage";
            }
            if (profile == null) {
                profile = ProviderProfile.NONE;
            }
            if (triager == null) {
                triager = RuleBasedTriager::triage;
            }
        }

        public Options(
                String host,
                int port,
                String model,
                ProviderProfile profile,
                Consumer<JsonNode> onRequest) {
            this(host, port, model, profile, onRequest, null);
        }

        /** The rule-based model on {@code port}: deterministic, for tests. */
        public static Options onPort(int port) {
            return new Options("127.0.0.1", port, "local-triage", ProviderProfile.NONE, null);
        }

        public Options withTriager(Triager t) {
            return new Options(host, port, model, profile, onRequest, t);
        }

        /** A fixed latency, replacing the profile's. */
        public Options withLatencyMs(long ms) {
            return withProfile(profile.withLatency(ms, ms));
        }

        public Options withProfile(ProviderProfile p) {
            return new Options(host, port, model, p, onRequest, triager);
        }

        public Options withRequestListener(Consumer<JsonNode> listener) {
            return new Options(host, port, model, profile, listener, triager);
        }

        /** Listen on {@code h} (an address of this machine, or 0.0.0.0) instead of loopback. */
        public Options withHost(String h) {
            return new Options(h, port, model, profile, onRequest, triager);
        }
    }

    /** What answers a ticket: the rule-based model or the embedding model. */
    @FunctionalInterface
    public interface Triager {
        ObjectNode triage(
                List<String> allowed,
                String systemPrompt,
                TicketBlock.Contents ticket,
                int earlierTurns);
    }

    private final Options options;
    private final EventLoopGroup group;
    private final Channel channel;
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong completions = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong rateLimited = new AtomicLong();
    private final AtomicLong serverErrors = new AtomicLong();
    private final AtomicLong permanentErrors = new AtomicLong();
    private final AtomicLong timeouts = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong truncated = new AtomicLong();
    private final AtomicLong refusals = new AtomicLong();
    private final AtomicLong outageRefused = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong throttled = new AtomicLong();
    private final AtomicReference<Faults> faults = new AtomicReference<>(Faults.NONE);
    private final AtomicLong busy = new AtomicLong();
    private final AtomicLong tokensCharged = new AtomicLong();
    private final AtomicLong active = new AtomicLong();
    private final AtomicLong outageStart = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong outageEnd = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong firstCompletionAfterOutage = new AtomicLong();
    private final RateBucket requestBucket;
    private final RateBucket tokenBucket;
    private final AtomicLong ids = new AtomicLong();

    private LocalModelServer(Options options) throws InterruptedException {
        this.options = options;
        ProviderProfile p = options.profile();
        this.requestBucket = p.rpm() > 0 ? new RateBucket(p.rpm()) : null;
        this.tokenBucket = p.tpm() > 0 ? new RateBucket(p.tpm()) : null;
        if (p.outageAfterMs() >= 0) {
            long start = System.currentTimeMillis() + p.outageAfterMs();
            outageStart.set(start);
            outageEnd.set(start + p.outageMs());
        }
        this.group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try {
            this.channel =
                    new ServerBootstrap()
                            .group(group)
                            .channel(NioServerSocketChannel.class)
                            .option(ChannelOption.SO_BACKLOG, 4096)
                            .childHandler(
                                    new ChannelInitializer<SocketChannel>() {
                                        @Override
                                        protected void initChannel(SocketChannel ch) {
                                            ch.pipeline()
                                                    .addLast(new HttpServerCodec())
                                                    .addLast(
                                                            new HttpObjectAggregator(
                                                                    16 * 1024 * 1024))
                                                    .addLast(new Handler());
                                        }
                                    })
                            .bind(options.host(), options.port())
                            .sync()
                            .channel();
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** Starts a server; port 0 picks a free port (see {@link #port()}). */
    public static LocalModelServer start(Options options) throws InterruptedException {
        return new LocalModelServer(options);
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    public String baseUrl() {
        return "http://" + options.host() + ":" + port() + "/v1";
    }

    /** Chat requests received so far. */
    public long requests() {
        return requests.get();
    }

    /** Requests refused with 429 by the RPM limit. */
    public long rateLimited() {
        return rateLimited.get();
    }

    /** Requests answered with a simulated 5xx. */
    public long serverErrors() {
        return serverErrors.get();
    }

    /** Chat requests answered 200 (including malformed, truncated and refused answers). */
    public long completions() {
        return completions.get();
    }

    /** Requests refused because of the outage window. */
    public long outageRefused() {
        return outageRefused.get();
    }

    /** Chat requests read in full and then left with their connection closed, no answer. */
    public long dropped() {
        return dropped.get();
    }

    /** Chat requests answered 429 by an injected throttle fault ({@code /admin/faults}). */
    public long throttled() {
        return throttled.get();
    }

    /**
     * Injects faults for {@code duration} from now, replacing any earlier window: a share {@code
     * drop} of chat requests is read and then has its connection closed with no answer, a share
     * {@code throttle} is answered 429 {@code rate_limit_exceeded} with {@code Retry-After: 1}, and
     * every chat answer takes {@code extraLatencyMs} longer.
     */
    public Faults injectFaults(
            Duration duration, double drop, double throttle, long extraLatencyMs) {
        Faults f =
                new Faults(
                        System.currentTimeMillis() + duration.toMillis(),
                        duration.toSeconds(),
                        drop,
                        throttle,
                        extraLatencyMs);
        faults.set(f);
        return f;
    }

    /**
     * A window of injected faults, for chaos runs.
     *
     * @param until epoch ms at which the window ends
     */
    public record Faults(long until, long seconds, double drop, double throttle, long latencyMs) {
        static final Faults NONE = new Faults(0, 0, 0, 0, 0);

        public Faults {
            if (seconds < 0) {
                throw new IllegalArgumentException("seconds must be at least 0");
            }
            if (!(drop >= 0 && drop <= 1) || !(throttle >= 0 && throttle <= 1)) {
                throw new IllegalArgumentException("drop and throttle must be between 0 and 1");
            }
            if (drop + throttle > 1) {
                throw new IllegalArgumentException("drop + throttle must be at most 1");
            }
            if (latencyMs < 0 || latencyMs > MAX_FAULT_LATENCY_MS) {
                throw new IllegalArgumentException(
                        "latency-ms must be between 0 and " + MAX_FAULT_LATENCY_MS);
            }
        }

        boolean activeAt(long now) {
            return now < until;
        }

        ObjectNode toJson() {
            ObjectNode node = Json.object();
            node.put("seconds", seconds);
            node.put("drop", drop);
            node.put("throttle", throttle);
            node.put("latency_ms", latencyMs);
            node.put("until_epoch_ms", until);
            return node;
        }
    }

    private static final long MAX_FAULT_SECONDS = 7 * 24 * 3600;
    private static final long MAX_FAULT_LATENCY_MS = 600_000;

    /** Requests held without an answer (simulated timeouts). */
    public long timeouts() {
        return timeouts.get();
    }

    /** Answers that were malformed, truncated or refusals. */
    public long badAnswers() {
        return malformed.get() + truncated.get() + refusals.get();
    }

    /** Starts an outage now: every request gets the profile's outage status until it ends. */
    public void startOutage(Duration duration) {
        long now = System.currentTimeMillis();
        firstCompletionAfterOutage.set(0);
        outageEnd.set(now + duration.toMillis());
        outageStart.set(now);
    }

    /** When the last outage ended (epoch ms), or 0 while one lasts or none has happened. */
    public long outageEndedAt() {
        long end = outageEnd.get();
        return end <= System.currentTimeMillis() ? end : 0;
    }

    /** Milliseconds from the end of the last outage to the first answer after it; -1: none yet. */
    public long recoveryMillis() {
        long first = firstCompletionAfterOutage.get();
        long end = outageEndedAt();
        return first == 0 || end == 0 ? -1 : first - end;
    }

    /** The counters of {@code GET /stats}. */
    public ObjectNode stats() {
        ObjectNode stats = Json.object();
        stats.put("profile", options.profile().name());
        stats.put("requests", requests.get());
        stats.put("completions", completions.get());
        stats.put("errors", errors.get());
        stats.put("rate_limited", rateLimited.get());
        stats.put("server_errors", serverErrors.get());
        stats.put("busy", busy.get());
        stats.put("timeouts", timeouts.get());
        stats.put("malformed", malformed.get());
        stats.put("truncated", truncated.get());
        stats.put("refusals", refusals.get());
        stats.put("outage_refused", outageRefused.get());
        stats.put("dropped", dropped.get());
        stats.put("throttled", throttled.get());
        stats.put("permanent_errors", permanentErrors.get());
        stats.put("tokens_charged", tokensCharged.get());
        stats.put("in_progress", active.get());
        stats.put("recovery_ms", recoveryMillis());
        Faults f = faults.get();
        if (f.activeAt(System.currentTimeMillis())) {
            stats.set("faults", f.toJson());
        }
        return stats;
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            String path = req.uri().split("\\?", 2)[0];
            if (req.method() == HttpMethod.GET && path.equals("/health")) {
                send(ctx, keepAlive, HttpResponseStatus.OK, "{\"status\":\"ok\"}");
            } else if (req.method() == HttpMethod.GET && path.equals("/v1/models")) {
                ObjectNode list = Json.object().put("object", "list");
                list.putArray("data")
                        .addObject()
                        .put("id", options.model())
                        .put("object", "model")
                        .put("owned_by", "local");
                send(ctx, keepAlive, HttpResponseStatus.OK, list.toString());
            } else if (req.method() == HttpMethod.GET && path.equals("/stats")) {
                send(ctx, keepAlive, HttpResponseStatus.OK, stats().toString());
            } else if (path.startsWith("/admin/") && !fromLoopback(ctx)) {
                // Faults on demand are for the machine's own chaos runs, never for the network,
                // even when the server listens on other interfaces (--host).
                send(
                        ctx,
                        keepAlive,
                        HttpResponseStatus.FORBIDDEN,
                        error(
                                "the admin endpoints answer only on loopback",
                                "permission_error",
                                null));
            } else if (req.method() == HttpMethod.POST && path.equals("/admin/outage")) {
                try {
                    Map<String, List<String>> params = params(req.uri(), Set.of("seconds"));
                    long seconds = longParam(params, "seconds", 30, MAX_FAULT_SECONDS);
                    startOutage(Duration.ofSeconds(seconds));
                    send(
                            ctx,
                            keepAlive,
                            HttpResponseStatus.OK,
                            "{\"outage_seconds\":" + seconds + "}");
                } catch (IllegalArgumentException e) {
                    badAdminRequest(ctx, keepAlive, e);
                }
            } else if (req.method() == HttpMethod.POST && path.equals("/admin/faults")) {
                try {
                    Map<String, List<String>> params =
                            params(req.uri(), Set.of("seconds", "drop", "throttle", "latency-ms"));
                    Faults f =
                            injectFaults(
                                    Duration.ofSeconds(
                                            longParam(params, "seconds", 0, MAX_FAULT_SECONDS)),
                                    rateParam(params, "drop"),
                                    rateParam(params, "throttle"),
                                    longParam(params, "latency-ms", 0, MAX_FAULT_LATENCY_MS));
                    send(ctx, keepAlive, HttpResponseStatus.OK, f.toJson().toString());
                } catch (IllegalArgumentException e) {
                    badAdminRequest(ctx, keepAlive, e);
                }
            } else if (req.method() == HttpMethod.POST && path.equals("/v1/chat/completions")) {
                chat(
                        ctx,
                        keepAlive,
                        req.content().toString(StandardCharsets.UTF_8),
                        req.headers().get("Authorization"));
            } else {
                send(
                        ctx,
                        keepAlive,
                        HttpResponseStatus.NOT_FOUND,
                        error("Unknown path " + path, "invalid_request_error", null));
            }
        }

        private void chat(
                ChannelHandlerContext ctx, boolean keepAlive, String body, String authorization) {
            requests.incrementAndGet();
            Faults f = faults.get();
            long extra = f.activeAt(System.currentTimeMillis()) ? f.latencyMs() : 0;
            if (extra > 0) {
                // Slow: everything about this request, its answer included, happens later.
                ctx.executor()
                        .schedule(
                                () -> answerChat(ctx, keepAlive, body, authorization),
                                extra,
                                TimeUnit.MILLISECONDS);
            } else {
                answerChat(ctx, keepAlive, body, authorization);
            }
        }

        private void answerChat(
                ChannelHandlerContext ctx, boolean keepAlive, String body, String authorization) {
            ProviderProfile profile = options.profile();
            long now = System.currentTimeMillis();
            Faults f = faults.get();
            double u = ThreadLocalRandom.current().nextDouble();
            boolean windowOpen = f.activeAt(now);
            if ((windowOpen && u < f.drop()) || ProviderProfile.chance(profile.dropRate())) {
                // Read in full, then the connection closes with no answer.
                dropped.incrementAndGet();
                ctx.close();
                return;
            }
            if (windowOpen && u < f.drop() + f.throttle()) {
                throttled.incrementAndGet();
                rateLimited.incrementAndGet();
                send(
                        ctx,
                        keepAlive,
                        HttpResponseStatus.TOO_MANY_REQUESTS,
                        error(
                                "Rate limit reached for requests.",
                                "requests",
                                "rate_limit_exceeded"),
                        Map.of("retry-after", "1"));
                return;
            }
            if (now >= outageStart.get() && now < outageEnd.get()) {
                outageRefused.incrementAndGet();
                send(
                        ctx,
                        keepAlive,
                        HttpResponseStatus.valueOf(profile.outageStatus()),
                        error("The service is temporarily unavailable.", "server_error", null));
                return;
            }
            JsonNode request;
            try {
                request = Json.MAPPER.readTree(body);
                if (options.onRequest() != null) {
                    options.onRequest().accept(request);
                }
            } catch (Exception e) {
                errors.incrementAndGet();
                send(
                        ctx,
                        keepAlive,
                        HttpResponseStatus.BAD_REQUEST,
                        error(
                                "could not parse the request: " + e.getMessage(),
                                "invalid_request_error",
                                null));
                return;
            }
            if (refused(ctx, keepAlive, request, body.length(), authorization)) {
                return;
            }
            if (ProviderProfile.chance(profile.timeoutRate())) {
                timeouts.incrementAndGet(); // hold it: the client's timeout has to fire
                return;
            }
            HttpResponseStatus status;
            String response;
            try {
                String content = answer(request);
                response = completion(request, body.length(), content);
                status = HttpResponseStatus.OK;
            } catch (BadRequest e) {
                status = HttpResponseStatus.BAD_REQUEST;
                response = error(e.getMessage(), "invalid_request_error", null);
                errors.incrementAndGet();
            }
            HttpResponseStatus finalStatus = status;
            String finalResponse = response;
            Map<String, String> headers = rateLimitHeaders();
            long latency = profile.sampleLatencyMs();
            active.incrementAndGet();
            Runnable reply =
                    () -> {
                        active.decrementAndGet();
                        if (finalStatus == HttpResponseStatus.OK) {
                            completions.incrementAndGet();
                            long t = System.currentTimeMillis();
                            if (t >= outageEnd.get()) {
                                firstCompletionAfterOutage.compareAndSet(0, t);
                            }
                        }
                        send(ctx, keepAlive, finalStatus, finalResponse, headers);
                    };
            if (latency > 0) {
                ctx.executor().schedule(reply, latency, TimeUnit.MILLISECONDS);
            } else {
                reply.run();
            }
        }

        /** The model's answer, or one of the profile's bad answers. */
        private String answer(JsonNode request) throws BadRequest {
            JsonNode messages = request.path("messages");
            if (!messages.isArray() || messages.isEmpty()) {
                throw new BadRequest("'messages' must be a non-empty array");
            }
            String lastUser = null;
            String system = null;
            int assistantTurns = 0;
            String lastTicket = null;
            TicketBlock.Contents ticket = null;
            List<String> users = new ArrayList<>();
            for (JsonNode m : messages) {
                String role = m.path("role").asText();
                switch (role) {
                    case "system" -> system = m.path("content").asText();
                    case "user" -> {
                        lastUser = m.path("content").asText();
                        users.add(lastUser);
                    }
                    case "assistant" -> assistantTurns++;
                    default -> throw new BadRequest("unknown role '" + role + "'");
                }
            }
            // The job's ticket is the last data block (TicketBlock); its JSON is read, never
            // header lines of the text. Read from the end: the history's blocks need no parsing.
            for (int i = users.size() - 1; i >= 0 && ticket == null; i--) {
                TicketBlock.Contents c = TicketBlock.read(users.get(i));
                if (c != null) {
                    lastTicket = users.get(i);
                    ticket = c;
                }
            }
            if (lastTicket != null && !lastTicket.equals(lastUser)) {
                // A repair request (the ticket, a bad answer, then what was wrong with it):
                // answer the ticket again; the bad answer was not a turn of the conversation.
                lastUser = lastTicket;
                assistantTurns--;
            }
            if (lastUser == null) {
                throw new BadRequest("no user message");
            }
            if (ticket == null) {
                // Another client's plain prompt: the whole message is the ticket's text.
                ticket = TicketBlock.Contents.legacy(lastUser);
            }
            if (lastUser.contains("[[simulate:400]]")) {
                throw new BadRequest("simulated bad request");
            }
            ProviderProfile profile = options.profile();
            if (lastUser.contains("[[simulate:invalid-json]]")
                    || ProviderProfile.chance(profile.malformedRate())) {
                malformed.incrementAndGet();
                return "{\"category\": \"billing\", \"priority\": ";
            }
            String content =
                    options.triager()
                            .triage(
                                    allowedCategories(request, system),
                                    system,
                                    ticket,
                                    assistantTurns)
                            .toString();
            if (ProviderProfile.chance(profile.truncatedRate())) {
                truncated.incrementAndGet();
                return TRUNCATED + content.substring(0, content.length() / 2);
            }
            if (ProviderProfile.chance(profile.refusalRate())) {
                refusals.incrementAndGet();
                return REFUSED;
            }
            return content;
        }

        /** Applies the profile's limits and faults; true when the request was refused. */
        private boolean refused(
                ChannelHandlerContext ctx,
                boolean keepAlive,
                JsonNode request,
                int requestChars,
                String authorization) {
            ProviderProfile p = options.profile();
            if ("401".equals(p.permanent())) {
                permanentErrors.incrementAndGet();
                // Like some real providers, the message echoes the key it got.
                String key =
                        authorization == null
                                ? "(none)"
                                : authorization.replaceFirst("^Bearer ", "");
                send(
                        ctx,
                        keepAlive,
                        HttpResponseStatus.UNAUTHORIZED,
                        error(
                                "Incorrect API key provided: " + key + ".",
                                "invalid_request_error",
                                "invalid_api_key"));
                return true;
            }
            if ("quota".equals(p.permanent())) {
                permanentErrors.incrementAndGet();
                send(
                        ctx,
                        keepAlive,
                        HttpResponseStatus.TOO_MANY_REQUESTS,
                        error(
                                "You exceeded your current quota.",
                                "insufficient_quota",
                                "insufficient_quota"));
                return true;
            }
            long waitMs = requestBucket == null ? 0 : requestBucket.tryTake(1);
            String limited = "requests";
            if (waitMs == 0 && tokenBucket != null) {
                int maxTokens =
                        request.path("max_tokens")
                                .asInt(request.path("max_completion_tokens").asInt(0));
                int cost = promptTokens(request) + maxTokens;
                waitMs = tokenBucket.tryTake(cost);
                limited = "tokens";
                if (waitMs == 0) {
                    tokensCharged.addAndGet(cost);
                } else if (requestBucket != null) {
                    requestBucket.giveBack(1);
                }
            }
            if (waitMs > 0) {
                rateLimited.incrementAndGet();
                Map<String, String> headers = new LinkedHashMap<>();
                if (p.rateLimitHeaders()) {
                    headers.put("retry-after", String.valueOf((waitMs + 999) / 1000));
                    headers.put("retry-after-ms", String.valueOf(waitMs));
                    headers.putAll(rateLimitHeaders());
                }
                send(
                        ctx,
                        keepAlive,
                        HttpResponseStatus.TOO_MANY_REQUESTS,
                        error(
                                "Rate limit reached for " + limited + ".",
                                limited,
                                "rate_limit_exceeded"),
                        headers);
                return true;
            }
            if (p.maxConcurrency() > 0 && active.get() >= p.maxConcurrency()) {
                busy.incrementAndGet();
                send(
                        ctx,
                        keepAlive,
                        HttpResponseStatus.SERVICE_UNAVAILABLE,
                        error("server busy, please try again.", "server_error", null));
                return true;
            }
            if (ProviderProfile.chance(p.serverErrorRate())) {
                serverErrors.incrementAndGet();
                HttpResponseStatus[] choices = {
                    HttpResponseStatus.INTERNAL_SERVER_ERROR,
                    HttpResponseStatus.BAD_GATEWAY,
                    HttpResponseStatus.SERVICE_UNAVAILABLE
                };
                send(
                        ctx,
                        keepAlive,
                        choices[ThreadLocalRandom.current().nextInt(choices.length)],
                        error(
                                "The server had an error while processing your request.",
                                "server_error",
                                null));
                return true;
            }
            return false;
        }

        /** Prompt tokens as providers estimate them before running the model: ~4 chars a token. */
        private int promptTokens(JsonNode request) {
            long chars = 0;
            int messages = 0;
            for (JsonNode m : request.path("messages")) {
                chars += m.path("content").asText("").length();
                messages++;
            }
            return (int) ((chars + 3) / 4 + 4L * messages);
        }

        /** OpenAI-style x-ratelimit-* headers, when the profile has limits and sends headers. */
        private Map<String, String> rateLimitHeaders() {
            ProviderProfile p = options.profile();
            Map<String, String> headers = new LinkedHashMap<>();
            if (!p.rateLimitHeaders()) {
                return headers;
            }
            if (requestBucket != null) {
                headers.put("x-ratelimit-limit-requests", String.valueOf(p.rpm()));
                headers.put(
                        "x-ratelimit-remaining-requests",
                        String.valueOf(requestBucket.remaining()));
                headers.put("x-ratelimit-reset-requests", requestBucket.resetMillis() + "ms");
            }
            if (tokenBucket != null) {
                headers.put("x-ratelimit-limit-tokens", String.valueOf(p.tpm()));
                headers.put(
                        "x-ratelimit-remaining-tokens", String.valueOf(tokenBucket.remaining()));
                headers.put("x-ratelimit-reset-tokens", tokenBucket.resetMillis() + "ms");
            }
            return headers;
        }

        private String completion(JsonNode request, int requestChars, String content) {
            ObjectNode root = Json.object();
            root.put("id", "chatcmpl-local-" + ids.incrementAndGet());
            root.put("object", "chat.completion");
            root.put("created", System.currentTimeMillis() / 1000);
            root.put("model", request.path("model").asText(options.model()));
            ObjectNode choice = root.putArray("choices").addObject();
            choice.put("index", 0);
            ObjectNode message = choice.putObject("message").put("role", "assistant");
            String finish = "stop";
            if (content.equals(REFUSED)) {
                message.putNull("content").put("refusal", "I'm sorry, I can't help with that.");
                content = "";
            } else if (content.startsWith(TRUNCATED)) {
                content = content.substring(TRUNCATED.length());
                message.put("content", content).putNull("refusal");
                finish = "length";
            } else {
                message.put("content", content).putNull("refusal");
            }
            choice.put("finish_reason", finish);
            int prompt = Math.max(1, promptTokens(request));
            int completion = Math.max(1, content.length() / 4);
            root.putObject("usage")
                    .put("prompt_tokens", prompt)
                    .put("completion_tokens", completion)
                    .put("total_tokens", prompt + completion);
            return root.toString();
        }

        private List<String> allowedCategories(JsonNode request, String system) {
            JsonNode values =
                    request.path("response_format")
                            .path("json_schema")
                            .path("schema")
                            .path("properties")
                            .path("category")
                            .path("enum");
            List<String> out = new ArrayList<>();
            if (values.isArray()) {
                values.forEach(v -> out.add(v.asText()));
            }
            if (out.isEmpty() && system != null) {
                // json_object and prompt-only requests: the prompt lists the categories.
                Matcher m = CATEGORY_LINE.matcher(system);
                while (m.find()) {
                    out.add(m.group(1));
                }
            }
            if (out.isEmpty()) {
                out.addAll(List.of("billing", "technical", "account", "shipping", "other"));
            }
            return out;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static final String TRUNCATED = "\u0000truncated\u0000";
    private static final String REFUSED = "\u0000refused\u0000";
    private static final Pattern CATEGORY_LINE = Pattern.compile("(?m)^- ([A-Za-z0-9_-]+): ");

    /**
     * A token bucket for a per-minute limit: refills limit/60 per second and holds at most ten
     * seconds' worth, so bursts are cut the way providers enforce per-minute limits over short
     * windows.
     */
    static final class RateBucket {
        private final double perMilli;
        private final double capacity;
        private double tokens;
        private long last;

        RateBucket(int perMinute) {
            this.perMilli = perMinute / 60_000.0;
            this.capacity = Math.max(1.0, perMinute / 6.0);
            this.tokens = capacity;
            this.last = System.currentTimeMillis();
        }

        /** Takes {@code n}, or returns the milliseconds until they are available. */
        synchronized long tryTake(double n) {
            refill();
            double need = Math.min(n, capacity);
            if (tokens >= need) {
                tokens -= need;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((need - tokens) / perMilli));
        }

        synchronized void giveBack(double n) {
            tokens = Math.min(capacity, tokens + n);
        }

        synchronized long remaining() {
            refill();
            return (long) Math.floor(tokens);
        }

        /** Milliseconds until the bucket is full again (OpenAI's x-ratelimit-reset-*). */
        synchronized long resetMillis() {
            refill();
            return (long) Math.ceil((capacity - tokens) / perMilli);
        }

        private void refill() {
            long now = System.currentTimeMillis();
            tokens = Math.min(capacity, tokens + (now - last) * perMilli);
            last = now;
        }
    }

    /** The query's parameters; an unknown one is an error, not silently ignored. */
    private static Map<String, List<String>> params(String uri, Set<String> known) {
        Map<String, List<String>> params = new QueryStringDecoder(uri).parameters();
        for (String name : params.keySet()) {
            if (!known.contains(name)) {
                throw new IllegalArgumentException(
                        "unknown parameter '" + name + "'; known: " + new TreeSet<>(known));
            }
        }
        return params;
    }

    private static long longParam(
            Map<String, List<String>> params, String name, long dflt, long max) {
        List<String> values = params.get(name);
        if (values == null || values.isEmpty()) {
            return dflt;
        }
        long v;
        try {
            v = Long.parseLong(values.get(0).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "'" + name + "' must be a whole number, not '" + values.get(0) + "'");
        }
        if (v < 0 || v > max) {
            throw new IllegalArgumentException(
                    "'" + name + "' must be between 0 and " + max + ", not " + v);
        }
        return v;
    }

    private static double rateParam(Map<String, List<String>> params, String name) {
        List<String> values = params.get(name);
        if (values == null || values.isEmpty()) {
            return 0;
        }
        double v;
        try {
            v = Double.parseDouble(values.get(0).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "'" + name + "' must be a share between 0 and 1, not '" + values.get(0) + "'");
        }
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(
                    "'" + name + "' must be a share between 0 and 1, not " + values.get(0));
        }
        return v;
    }

    private static boolean fromLoopback(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a
                && a.getAddress() != null
                && a.getAddress().isLoopbackAddress();
    }

    private static void badAdminRequest(
            ChannelHandlerContext ctx, boolean keepAlive, IllegalArgumentException e) {
        send(
                ctx,
                keepAlive,
                HttpResponseStatus.BAD_REQUEST,
                error(e.getMessage(), "invalid_request_error", null));
    }

    private static String error(String message, String type, String code) {
        ObjectNode root = Json.object();
        ObjectNode error = root.putObject("error");
        error.put("message", message);
        error.put("type", type);
        error.putNull("param");
        if (code == null) {
            error.putNull("code");
        } else {
            error.put("code", code);
        }
        return root.toString();
    }

    private static void send(
            ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String body) {
        send(ctx, keepAlive, status, body, Map.of());
    }

    private static void send(
            ChannelHandlerContext ctx,
            boolean keepAlive,
            HttpResponseStatus status,
            String body,
            Map<String, String> extraHeaders) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response =
                new DefaultFullHttpResponse(
                        HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        extraHeaders.forEach((k, v) -> response.headers().set(k, v));
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static final class BadRequest extends Exception {
        BadRequest(String message) {
            super(message, null, false, false);
        }
    }
}
