package dev.triage.tools.simulator;

import static dev.triage.tools.simulator.HttpReplies.error;
import static dev.triage.tools.simulator.HttpReplies.send;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The simulator's HTTP routes, and a chat request's way through them: the faults before its body is
 * read, the body, the faults after, then the answer after the profile's latency (answers are
 * scheduled on the event loop, so a slow answer holds no thread).
 */
final class RequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    /** What the handler needs of the server it serves. */
    record Parts(
            String model,
            ProviderProfile profile,
            Consumer<JsonNode> onRequest,
            ServerCounters counters,
            FaultPlan faults,
            AnswerProducer answers,
            Supplier<ObjectNode> stats) {}

    private final Parts parts;
    private final ServerCounters counters;
    private final FaultPlan faults;

    RequestHandler(Parts parts) {
        this.parts = parts;
        this.counters = parts.counters();
        this.faults = parts.faults();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        String path = req.uri().split("\\?", 2)[0];
        HttpMethod method = req.method();
        if (method == HttpMethod.GET && path.equals("/health")) {
            send(ctx, keepAlive, HttpResponseStatus.OK, "{\"status\":\"ok\"}");
        } else if (method == HttpMethod.GET && path.equals("/v1/models")) {
            ObjectNode list = Json.object().put("object", "list");
            list.putArray("data")
                    .addObject()
                    .put("id", parts.model())
                    .put("object", "model")
                    .put("owned_by", "local");
            send(ctx, keepAlive, HttpResponseStatus.OK, list.toString());
        } else if (method == HttpMethod.GET && path.equals("/stats")) {
            send(ctx, keepAlive, HttpResponseStatus.OK, parts.stats().get().toString());
        } else if (path.startsWith("/admin/") && !fromLoopback(ctx)) {
            // Faults on demand are for the machine's own chaos runs, never for the network,
            // even when the server listens on other interfaces (--host).
            send(
                    ctx,
                    keepAlive,
                    HttpResponseStatus.FORBIDDEN,
                    error("the admin endpoints answer only on loopback", "permission_error", null));
        } else if (method == HttpMethod.POST && path.equals("/admin/outage")) {
            admin(ctx, keepAlive, () -> outage(req.uri()));
        } else if (method == HttpMethod.POST && path.equals("/admin/faults")) {
            admin(ctx, keepAlive, () -> injectFaults(req.uri()));
        } else if (method == HttpMethod.POST && path.equals("/v1/chat/completions")) {
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

    private String outage(String uri) {
        AdminParams params = AdminParams.of(uri, Set.of("seconds"));
        long seconds = params.whole("seconds", 30, FaultWindow.MAX_SECONDS);
        faults.outage().startNow(Duration.ofSeconds(seconds).toMillis());
        return "{\"outage_seconds\":" + seconds + "}";
    }

    private String injectFaults(String uri) {
        AdminParams params =
                AdminParams.of(uri, Set.of("seconds", "drop", "throttle", "latency-ms"));
        FaultWindow w =
                faults.inject(
                        Duration.ofSeconds(params.whole("seconds", 0, FaultWindow.MAX_SECONDS)),
                        params.share("drop"),
                        params.share("throttle"),
                        params.whole("latency-ms", 0, FaultWindow.MAX_LATENCY_MS));
        return w.toJson().toString();
    }

    /** Answers an admin request with what {@code action} returns, or 400 for a bad parameter. */
    private static void admin(
            ChannelHandlerContext ctx, boolean keepAlive, Supplier<String> action) {
        String body;
        try {
            body = action.get();
        } catch (IllegalArgumentException e) {
            send(
                    ctx,
                    keepAlive,
                    HttpResponseStatus.BAD_REQUEST,
                    error(e.getMessage(), "invalid_request_error", null));
            return;
        }
        send(ctx, keepAlive, HttpResponseStatus.OK, body);
    }

    private void chat(
            ChannelHandlerContext ctx, boolean keepAlive, String body, String authorization) {
        counters.requests.incrementAndGet();
        long extra = faults.extraLatencyMs(System.currentTimeMillis());
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
        ChatCall call =
                new ChatCall(
                        System.currentTimeMillis(),
                        ThreadLocalRandom.current().nextDouble(),
                        faults.window(),
                        null,
                        authorization);
        if (refused(ctx, keepAlive, faults.beforeReading(call))) {
            return;
        }
        ChatRequest request;
        try {
            request = ChatRequest.parse(body);
            if (parts.onRequest() != null) {
                parts.onRequest().accept(request.json());
            }
        } catch (Exception e) {
            counters.errors.incrementAndGet();
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
        if (refused(ctx, keepAlive, faults.afterReading(call.read(request)))) {
            return;
        }
        HttpResponseStatus status;
        String response;
        try {
            response = parts.answers().completion(request, parts.answers().answer(request));
            status = HttpResponseStatus.OK;
        } catch (ChatRequest.BadRequest e) {
            status = HttpResponseStatus.BAD_REQUEST;
            response = error(e.getMessage(), "invalid_request_error", null);
            counters.errors.incrementAndGet();
        }
        reply(ctx, keepAlive, status, response, faults.rateLimits().headers());
    }

    /** Sends the answer after the profile's latency. */
    private void reply(
            ChannelHandlerContext ctx,
            boolean keepAlive,
            HttpResponseStatus status,
            String response,
            Map<String, String> headers) {
        long latency = parts.profile().sampleLatencyMs();
        counters.active.incrementAndGet();
        Runnable reply =
                () -> {
                    counters.active.decrementAndGet();
                    if (status == HttpResponseStatus.OK) {
                        counters.completions.incrementAndGet();
                        faults.outage().answered(System.currentTimeMillis());
                    }
                    send(ctx, keepAlive, status, response, headers);
                };
        if (latency > 0) {
            ctx.executor().schedule(reply, latency, TimeUnit.MILLISECONDS);
        } else {
            reply.run();
        }
    }

    /** Carries out {@code refusal}; false when there is none. */
    private static boolean refused(ChannelHandlerContext ctx, boolean keepAlive, Refusal refusal) {
        if (refusal == null) {
            return false;
        }
        if (refusal instanceof Refusal.Drop) {
            ctx.close(); // read in full, then closed with no answer
        } else if (refusal instanceof Refusal.Respond r) {
            send(ctx, keepAlive, r.status(), r.body(), r.headers());
        } // Refusal.Hold: no answer at all, the client's timeout has to fire
        return true;
    }

    private static boolean fromLoopback(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a
                && a.getAddress() != null
                && a.getAddress().isLoopbackAddress();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
