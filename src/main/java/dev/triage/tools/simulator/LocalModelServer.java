package dev.triage.tools.simulator;

import dev.triage.io.Json;
import dev.triage.prompt.TicketBlock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

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
 *
 * <p>This class is the lifecycle and the public face; the parts are {@link RequestHandler} (the
 * routes), {@link ChatRequest} (what a request says, read with the job's {@code PromptFormat}),
 * {@link FaultPlan} (one small {@link Fault} per kind of fault), {@link RateLimits} and {@link
 * AnswerProducer}.
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
    private final ServerCounters counters = new ServerCounters();
    private final FaultPlan faults;
    private final EventLoopGroup group;
    private final Channel channel;

    private LocalModelServer(Options options) throws InterruptedException {
        this.options = options;
        this.faults = new FaultPlan(options.profile(), counters);
        RequestHandler.Parts parts =
                new RequestHandler.Parts(
                        options.model(),
                        options.profile(),
                        options.onRequest(),
                        counters,
                        faults,
                        new AnswerProducer(
                                options.model(), options.profile(), options.triager(), counters),
                        this::stats);
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
                                                    .addLast(new RequestHandler(parts));
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
        return counters.requests.get();
    }

    /** Requests refused with 429 by the RPM limit. */
    public long rateLimited() {
        return counters.rateLimited.get();
    }

    /** Requests answered with a simulated 5xx. */
    public long serverErrors() {
        return counters.serverErrors.get();
    }

    /** Chat requests answered 200 (including malformed, truncated and refused answers). */
    public long completions() {
        return counters.completions.get();
    }

    /** Requests refused because of the outage window. */
    public long outageRefused() {
        return counters.outageRefused.get();
    }

    /** Chat requests read in full and then left with their connection closed, no answer. */
    public long dropped() {
        return counters.dropped.get();
    }

    /** Chat requests answered 429 by an injected throttle fault ({@code /admin/faults}). */
    public long throttled() {
        return counters.throttled.get();
    }

    /** Requests held without an answer (simulated timeouts). */
    public long timeouts() {
        return counters.timeouts.get();
    }

    /** Answers that were malformed, truncated or refusals. */
    public long badAnswers() {
        return counters.malformed.get() + counters.truncated.get() + counters.refusals.get();
    }

    /**
     * Injects faults for {@code duration} from now, replacing any earlier window: a share {@code
     * drop} of chat requests is read and then has its connection closed with no answer, a share
     * {@code throttle} is answered 429 {@code rate_limit_exceeded} with {@code Retry-After: 1}, and
     * every chat answer takes {@code extraLatencyMs} longer.
     */
    public FaultWindow injectFaults(
            Duration duration, double drop, double throttle, long extraLatencyMs) {
        return faults.inject(duration, drop, throttle, extraLatencyMs);
    }

    /** Starts an outage now: every request gets the profile's outage status until it ends. */
    public void startOutage(Duration duration) {
        faults.outage().startNow(duration.toMillis());
    }

    /** When the last outage ended (epoch ms), or 0 while one lasts or none has happened. */
    public long outageEndedAt() {
        return faults.outage().endedAt();
    }

    /** Milliseconds from the end of the last outage to the first answer after it; -1: none yet. */
    public long recoveryMillis() {
        return faults.outage().recoveryMillis();
    }

    /** The counters of {@code GET /stats}. */
    public ObjectNode stats() {
        ObjectNode stats = Json.object();
        stats.put("profile", options.profile().name());
        counters.writeTo(stats);
        stats.put("recovery_ms", recoveryMillis());
        FaultWindow f = faults.window();
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
}
