package dev.triage.tools;

import dev.triage.records.Json;

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

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The project's stand-in for an LLM provider: an OpenAI-compatible HTTP server ({@code POST
 * /v1/chat/completions}, {@code GET /v1/models}, {@code GET /health}, {@code GET /stats}) that
 * answers with schema-valid triage JSON from {@link RuleBasedTriager}. Non-blocking (Netty): a
 * simulated latency holds thousands of requests without a thread each.
 *
 * <p>Simulation markers in a ticket's text, for tests and demos: {@code [[simulate:invalid-json]]}
 * answers with broken JSON, {@code [[simulate:400]]} answers HTTP 400.
 */
public final class LocalModelServer implements AutoCloseable {

    /** Server options. */
    public record Options(
            String host,
            int port,
            long latencyMs,
            String model,
            ProviderFaults faults,
            Consumer<JsonNode> onRequest) {
        public Options {
            if (model == null) {
                model = "local-triage";
            }
            if (faults == null) {
                faults = ProviderFaults.NONE;
            }
        }

        public static Options onPort(int port) {
            return new Options("127.0.0.1", port, 0, "local-triage", ProviderFaults.NONE, null);
        }

        public Options withLatencyMs(long ms) {
            return new Options(host, port, ms, model, faults, onRequest);
        }

        public Options withFaults(ProviderFaults f) {
            return new Options(host, port, latencyMs, model, f, onRequest);
        }

        public Options withRequestListener(Consumer<JsonNode> listener) {
            return new Options(host, port, latencyMs, model, faults, listener);
        }
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
    private final ProviderFaults.RequestBucket bucket;
    private final AtomicLong ids = new AtomicLong();

    private LocalModelServer(Options options) throws InterruptedException {
        this.options = options;
        this.bucket =
                options.faults().rpm() > 0
                        ? new ProviderFaults.RequestBucket(options.faults().rpm())
                        : null;
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
                ObjectNode stats = Json.object();
                stats.put("requests", requests.get());
                stats.put("completions", completions.get());
                stats.put("errors", errors.get());
                stats.put("rate_limited", rateLimited.get());
                stats.put("server_errors", serverErrors.get());
                stats.put("permanent_errors", permanentErrors.get());
                send(ctx, keepAlive, HttpResponseStatus.OK, stats.toString());
            } else if (req.method() == HttpMethod.POST && path.equals("/v1/chat/completions")) {
                chat(ctx, keepAlive, req.content().toString(StandardCharsets.UTF_8));
            } else {
                send(
                        ctx,
                        keepAlive,
                        HttpResponseStatus.NOT_FOUND,
                        error("Unknown path " + path, "invalid_request_error", null));
            }
        }

        private void chat(ChannelHandlerContext ctx, boolean keepAlive, String body) {
            requests.incrementAndGet();
            if (refused(ctx, keepAlive)) {
                return;
            }
            HttpResponseStatus status;
            String response;
            try {
                JsonNode request = Json.MAPPER.readTree(body);
                if (options.onRequest() != null) {
                    options.onRequest().accept(request);
                }
                JsonNode messages = request.path("messages");
                if (!messages.isArray() || messages.isEmpty()) {
                    throw new BadRequest("'messages' must be a non-empty array");
                }
                String lastUser = null;
                String system = null;
                int assistantTurns = 0;
                for (JsonNode m : messages) {
                    String role = m.path("role").asText();
                    switch (role) {
                        case "system" -> system = m.path("content").asText();
                        case "user" -> lastUser = m.path("content").asText();
                        case "assistant" -> assistantTurns++;
                        default -> throw new BadRequest("unknown role '" + role + "'");
                    }
                }
                if (lastUser == null) {
                    throw new BadRequest("no user message");
                }
                if (lastUser.contains("[[simulate:400]]")) {
                    throw new BadRequest("simulated bad request");
                }
                String content;
                if (lastUser.contains("[[simulate:invalid-json]]")) {
                    content = "{\"category\": \"billing\", \"priority\": ";
                } else {
                    content =
                            RuleBasedTriager.triage(
                                            allowedCategories(request),
                                            system,
                                            lastUser,
                                            assistantTurns)
                                    .toString();
                }
                response = completion(request, body.length(), content);
                status = HttpResponseStatus.OK;
                completions.incrementAndGet();
            } catch (BadRequest e) {
                status = HttpResponseStatus.BAD_REQUEST;
                response = error(e.getMessage(), "invalid_request_error", null);
                errors.incrementAndGet();
            } catch (Exception e) {
                status = HttpResponseStatus.BAD_REQUEST;
                response =
                        error(
                                "could not parse the request: " + e.getMessage(),
                                "invalid_request_error",
                                null);
                errors.incrementAndGet();
            }
            HttpResponseStatus finalStatus = status;
            String finalResponse = response;
            if (options.latencyMs() > 0) {
                ctx.executor()
                        .schedule(
                                () -> send(ctx, keepAlive, finalStatus, finalResponse, Map.of()),
                                options.latencyMs(),
                                TimeUnit.MILLISECONDS);
            } else {
                send(ctx, keepAlive, finalStatus, finalResponse, Map.of());
            }
        }

        /** Applies the configured provider faults; true when the request was refused. */
        private boolean refused(ChannelHandlerContext ctx, boolean keepAlive) {
            ProviderFaults faults = options.faults();
            if ("401".equals(faults.permanent())) {
                permanentErrors.incrementAndGet();
                send(
                        ctx,
                        keepAlive,
                        HttpResponseStatus.UNAUTHORIZED,
                        error(
                                "Incorrect API key provided.",
                                "invalid_request_error",
                                "invalid_api_key"),
                        Map.of());
                return true;
            }
            if ("quota".equals(faults.permanent())) {
                permanentErrors.incrementAndGet();
                send(
                        ctx,
                        keepAlive,
                        HttpResponseStatus.TOO_MANY_REQUESTS,
                        error(
                                "You exceeded your current quota.",
                                "insufficient_quota",
                                "insufficient_quota"),
                        Map.of());
                return true;
            }
            if (bucket != null) {
                long waitMs = bucket.tryTake();
                if (waitMs > 0) {
                    rateLimited.incrementAndGet();
                    Map<String, String> headers = new java.util.LinkedHashMap<>();
                    if (faults.rateLimitHeaders()) {
                        headers.put("retry-after", String.valueOf((waitMs + 999) / 1000));
                        headers.put("retry-after-ms", String.valueOf(waitMs));
                        headers.put("x-ratelimit-limit-requests", String.valueOf(faults.rpm()));
                        headers.put("x-ratelimit-remaining-requests", "0");
                        headers.put("x-ratelimit-reset-requests", waitMs + "ms");
                    }
                    send(
                            ctx,
                            keepAlive,
                            HttpResponseStatus.TOO_MANY_REQUESTS,
                            error(
                                    "Rate limit reached for requests.",
                                    "requests",
                                    "rate_limit_exceeded"),
                            headers);
                    return true;
                }
            }
            if (faults.serverError()) {
                serverErrors.incrementAndGet();
                HttpResponseStatus[] choices = {
                    HttpResponseStatus.INTERNAL_SERVER_ERROR,
                    HttpResponseStatus.BAD_GATEWAY,
                    HttpResponseStatus.SERVICE_UNAVAILABLE
                };
                send(
                        ctx,
                        keepAlive,
                        choices[
                                java.util.concurrent.ThreadLocalRandom.current()
                                        .nextInt(choices.length)],
                        error(
                                "The server had an error while processing your request.",
                                "server_error",
                                null),
                        Map.of());
                return true;
            }
            return false;
        }

        private String completion(JsonNode request, int requestChars, String content) {
            ObjectNode root = Json.object();
            root.put("id", "chatcmpl-local-" + ids.incrementAndGet());
            root.put("object", "chat.completion");
            root.put("created", System.currentTimeMillis() / 1000);
            root.put("model", request.path("model").asText(options.model()));
            ObjectNode choice = root.putArray("choices").addObject();
            choice.put("index", 0);
            choice.putObject("message")
                    .put("role", "assistant")
                    .put("content", content)
                    .putNull("refusal");
            choice.put("finish_reason", "stop");
            int prompt = Math.max(1, requestChars / 4);
            int completion = Math.max(1, content.length() / 4);
            root.putObject("usage")
                    .put("prompt_tokens", prompt)
                    .put("completion_tokens", completion)
                    .put("total_tokens", prompt + completion);
            return root.toString();
        }

        private List<String> allowedCategories(JsonNode request) {
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
