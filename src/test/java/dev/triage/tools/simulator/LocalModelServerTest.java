package dev.triage.tools.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.triage.config.PromptSettings;
import dev.triage.io.Json;
import dev.triage.llm.ChatMessage;
import dev.triage.llm.TriageAnswer;
import dev.triage.llm.TriageAnswerParser;
import dev.triage.prompt.PromptBuilder;
import dev.triage.records.Ticket;
import dev.triage.session.Turn;
import dev.triage.testing.TestSettings;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The local model server over real HTTP, with the JDK's HTTP client as an independent peer. */
class LocalModelServerTest {

    private static final PromptSettings PROMPTS =
            TestSettings.yaml(
                            """
                            triage.system-prompt: Triage.
                            triage.categories:
                              billing: Invoices, charges, refunds.
                              shipping: Orders, delivery, tracking.
                              warranty: Broken devices under guarantee, repairs.
                              other: Anything else.
                            """)
                    .prompt();

    private final HttpClient http = HttpClient.newHttpClient();
    private final PromptBuilder prompts = new PromptBuilder(PROMPTS);
    private LocalModelServer server;

    @BeforeEach
    void start() throws Exception {
        server = LocalModelServer.start(LocalModelServer.Options.onPort(0).withLatencyMs(80));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void answersHealthAndModels() throws Exception {
        assertThat(get("/health").body()).contains("ok");
        JsonNode models = Json.MAPPER.readTree(get("/v1/models").body());
        assertThat(models.at("/data/0/id").asText()).isEqualTo("local-triage");
    }

    @Test
    void triagesUnambiguousTicketsIntoAllowedCategoriesWithAValidAnswer() throws Exception {
        var parser = new TriageAnswerParser(PROMPTS.categories().keySet());
        assertThat(triage("I was charged twice, please refund the payment.", List.of()).category())
                .isEqualTo("billing");
        assertThat(
                        triage(
                                        "My order has not arrived, the tracking shows no delivery.",
                                        List.of())
                                .category())
                .isEqualTo("shipping");
        // A custom category is recognised from the words of its description.
        assertThat(
                        triage(
                                        "My device is broken, I need a repair under the guarantee.",
                                        List.of())
                                .category())
                .isEqualTo("warranty");
        TriageAnswer urgent =
                triage("URGENT: I am angry, this is unacceptable. Refund now!", List.of());
        assertThat(urgent.priority()).isEqualTo("urgent");
        assertThat(urgent.sentiment()).isEqualTo("negative");
        assertThat(urgent.summary()).isEqualTo("URGENT: I am angry, this is unacceptable.");
        assertThat(parser.parse(urgent.toJson())).isEqualTo(urgent);
    }

    @Test
    void aReplyAcknowledgesEarlierTurns() throws Exception {
        Turn earlier =
                new Turn(1, "T-1", "Ticket T-1\n\nWhere is my order?", "{\"summary\":\"order\"}");
        assertThat(triage("Any update?", List.of(earlier)).draftReply())
                .startsWith("Thanks for following up");
        assertThat(triage("Any update?", List.of()).draftReply())
                .startsWith("Thanks for contacting us");
    }

    @Test
    void aRepairRequestIsAnsweredForTheTicketInTheDataBlock() throws Exception {
        Ticket ticket =
                new Ticket(
                        "T-9",
                        "S-9",
                        null,
                        "email",
                        "Ticket T-0 via phone",
                        "I was charged twice, please refund the payment.",
                        0,
                        "t",
                        0,
                        0);
        List<ChatMessage> messages = new ArrayList<>(prompts.messages(List.of(), ticket));
        messages.add(ChatMessage.assistant("{\"category\": "));
        messages.add(ChatMessage.user(PromptBuilder.repairRequest("answer is not valid JSON")));
        HttpResponse<String> response =
                http.send(chatRequest(messages), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        TriageAnswer answer =
                new TriageAnswerParser(PROMPTS.categories().keySet())
                        .parse(
                                Json.MAPPER
                                        .readTree(response.body())
                                        .at("/choices/0/message/content")
                                        .asText());
        assertThat(answer.category()).isEqualTo("billing");
        // the bad answer was no turn of the conversation
        assertThat(answer.draftReply()).startsWith("Thanks for contacting us");
        assertThat(answer.summary()).isEqualTo("I was charged twice, please refund the payment.");
    }

    @Test
    void holdsTheConfiguredLatencyWithoutBlockingOtherRequests() throws Exception {
        long start = System.nanoTime();
        List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> futures =
                new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            futures.add(
                    http.sendAsync(
                            chatRequest("Refund please " + i, List.of()),
                            HttpResponse.BodyHandlers.ofString()));
        }
        for (var f : futures) {
            assertThat(f.get().statusCode()).isEqualTo(200);
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(millis).isGreaterThanOrEqualTo(80).isLessThan(2_000);
        assertThat(Json.MAPPER.readTree(get("/stats").body()).get("requests").asLong())
                .isEqualTo(50);
    }

    @Test
    void rejectsMalformedRequestsWithAnOpenAiStyleError() throws Exception {
        var response =
                http.send(
                        HttpRequest.newBuilder(URI.create(server.baseUrl() + "/chat/completions"))
                                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": 3}"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(Json.MAPPER.readTree(response.body()).at("/error/message").asText())
                .contains("messages");
    }

    @Test
    void faultsDropAShareOfChatRequestsAfterReadingThemAndCountThem() throws Exception {
        HttpResponse<String> window = post("/admin/faults?seconds=60&drop=1");
        assertThat(window.statusCode()).isEqualTo(200);
        JsonNode json = Json.MAPPER.readTree(window.body());
        assertThat(json.get("seconds").asLong()).isEqualTo(60);
        assertThat(json.get("drop").asDouble()).isEqualTo(1.0);
        assertThat(json.get("throttle").asDouble()).isZero();
        assertThat(json.get("latency_ms").asLong()).isZero();
        assertThat(json.get("until_epoch_ms").asLong()).isGreaterThan(System.currentTimeMillis());
        assertThatThrownBy(
                        () ->
                                http.send(
                                        chatRequest("Refund please", List.of()),
                                        HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(IOException.class);
        JsonNode stats = Json.MAPPER.readTree(get("/stats").body());
        assertThat(stats.get("requests").asLong()).isEqualTo(1);
        assertThat(stats.get("dropped").asLong()).isEqualTo(1);
        assertThat(stats.get("completions").asLong()).isZero();
        assertThat(stats.at("/faults/drop").asDouble()).isEqualTo(1.0);
    }

    @Test
    void faultsThrottleWithRetryAfterOneSecond() throws Exception {
        assertThat(post("/admin/faults?seconds=60&throttle=1").statusCode()).isEqualTo(200);
        HttpResponse<String> r =
                http.send(
                        chatRequest("Refund please", List.of()),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(429);
        assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(Json.MAPPER.readTree(r.body()).at("/error/code").asText())
                .isEqualTo("rate_limit_exceeded");
        assertThat(Json.MAPPER.readTree(get("/stats").body()).get("throttled").asLong())
                .isEqualTo(1);
    }

    @Test
    void faultsMakeEveryAnswerSlower() throws Exception {
        assertThat(post("/admin/faults?seconds=60&latency-ms=400").statusCode()).isEqualTo(200);
        long start = System.nanoTime();
        triage("Refund please", List.of());
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(millis).isGreaterThanOrEqualTo(480); // 400 more than the 80 configured
    }

    @Test
    void aZeroSecondFaultWindowIsOverAtOnceAndMissingParametersAreZero() throws Exception {
        HttpResponse<String> window = post("/admin/faults?drop=1&throttle=0");
        assertThat(window.statusCode()).isEqualTo(200);
        assertThat(Json.MAPPER.readTree(window.body()).get("seconds").asLong()).isZero();
        assertThat(triage("Refund please", List.of()).category()).isEqualTo("billing");
        assertThat(Json.MAPPER.readTree(get("/stats").body()).get("dropped").asLong()).isZero();
    }

    @Test
    void badFaultAndOutageParametersAreA400NeverAHungOrClosedRequest() throws Exception {
        for (String query :
                List.of(
                        "/admin/faults?seconds=abc",
                        "/admin/faults?seconds=10&drop=2",
                        "/admin/faults?seconds=10&throttle=-0.1",
                        "/admin/faults?seconds=10&drop=NaN",
                        "/admin/faults?seconds=10&drop=0.7&throttle=0.7",
                        "/admin/faults?seconds=10&latency-ms=fast",
                        "/admin/faults?seconds=-5",
                        "/admin/faults?seconds=10&dorp=0.5",
                        "/admin/outage?seconds=abc",
                        "/admin/outage?seconds=99999999999999999999")) {
            HttpResponse<String> r = post(query);
            assertThat(r.statusCode()).as(query).isEqualTo(400);
            assertThat(Json.MAPPER.readTree(r.body()).at("/error/message").asText())
                    .as(query)
                    .isNotBlank();
        }
        // Nothing was injected by the refused calls.
        assertThat(triage("Refund please", List.of()).category()).isEqualTo("billing");
    }

    @Test
    void aProfilesDropRateDropsRequestsPermanently() throws Exception {
        ProviderProfile profile =
                ProviderProfile.parse(
                        new ByteArrayInputStream(
                                "name: dropping\ndrop-rate: 1\n".getBytes(StandardCharsets.UTF_8)),
                        "test");
        assertThat(profile.dropRate()).isEqualTo(1.0);
        assertThat(ProviderProfile.load("dropped-connections").dropRate()).isEqualTo(0.1);
        assertThat(ProviderProfile.load("flaky").dropRate()).isZero();
        assertThatThrownBy(
                        () ->
                                ProviderProfile.parse(
                                        new ByteArrayInputStream(
                                                "drop-rate: 2\n".getBytes(StandardCharsets.UTF_8)),
                                        "test"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("drop-rate");
        try (LocalModelServer dropping =
                LocalModelServer.start(LocalModelServer.Options.onPort(0).withProfile(profile))) {
            HttpRequest request =
                    HttpRequest.newBuilder(URI.create(dropping.baseUrl() + "/chat/completions"))
                            .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": []}"))
                            .build();
            assertThatThrownBy(() -> http.send(request, HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(IOException.class);
            assertThat(dropping.dropped()).isEqualTo(1);
            assertThat(dropping.requests()).isEqualTo(1);
        }
    }

    @Test
    void theAdminEndpointsAnswerOnlyOnLoopbackEvenWhenTheServerListensOnEveryInterface()
            throws Exception {
        InetAddress external = nonLoopbackAddress();
        assumeTrue(external != null, "this machine has no non-loopback IPv4 address");
        try (LocalModelServer open =
                LocalModelServer.start(LocalModelServer.Options.onPort(0).withHost("0.0.0.0"))) {
            String remote = "http://" + external.getHostAddress() + ":" + open.port();
            for (String path : List.of("/admin/outage?seconds=5", "/admin/faults?seconds=5")) {
                assertThat(call(remote + path, true).statusCode())
                        .as(path + " from " + external)
                        .isEqualTo(403);
            }
            assertThat(open.outageRefused()).isZero();
            String local = "http://127.0.0.1:" + open.port();
            assertThat(call(local + "/admin/outage?seconds=5", true).statusCode()).isEqualTo(200);
            // The chat API itself still answers on every interface it listens on.
            assertThat(call(remote + "/health", false).statusCode()).isEqualTo(200);
        }
    }

    private HttpResponse<String> call(String url, boolean post) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        if (post) {
            b.POST(HttpRequest.BodyPublishers.noBody());
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static InetAddress nonLoopbackAddress() throws Exception {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                    return a;
                }
            }
        }
        return null;
    }

    private TriageAnswer triage(String body, List<Turn> history) throws Exception {
        HttpResponse<String> response =
                http.send(chatRequest(body, history), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode root = Json.MAPPER.readTree(response.body());
        assertThat(root.at("/choices/0/finish_reason").asText()).isEqualTo("stop");
        assertThat(root.at("/usage/prompt_tokens").asInt()).isPositive();
        return new TriageAnswerParser(PROMPTS.categories().keySet())
                .parse(root.at("/choices/0/message/content").asText());
    }

    private HttpRequest chatRequest(String body, List<Turn> history) {
        Ticket ticket = new Ticket("T-9", "S-9", null, null, null, body, 0, "t", 0, 0);
        return chatRequest(prompts.messages(history, ticket));
    }

    private HttpRequest chatRequest(List<ChatMessage> messages) {
        var request = Json.object();
        request.put("model", "local-triage");
        var msgs = request.putArray("messages");
        for (ChatMessage m : messages) {
            msgs.addObject().put("role", m.role()).put("content", m.content());
        }
        request.putObject("response_format")
                .put("type", "json_schema")
                .putObject("json_schema")
                .put("name", "triage")
                .put("strict", true)
                .set("schema", prompts.answerSchema());
        return HttpRequest.newBuilder(URI.create(server.baseUrl() + "/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(request.toString()))
                .build();
    }

    private HttpResponse<String> post(String path) throws Exception {
        String base = server.baseUrl().replace("/v1", "");
        return http.send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        String base = server.baseUrl().replace("/v1", "");
        return http.send(
                HttpRequest.newBuilder(URI.create(base + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
