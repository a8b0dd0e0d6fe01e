package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.triage.config.JobSettings;
import dev.triage.config.LlmSettings;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Attacks on the llm.proxy.* settings and on what the client makes of a proxy's answers. */
class AttackProxyTest {

    private static LlmSettings settings(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("llm.request-timeout=5s"));
        all.addAll(List.of(args));
        return LlmSettings.primary(JobSettings.fromArgs(all.toArray(String[]::new)));
    }

    /**
     * LlmSettings.Proxy.from promises that every malformed value fails at submission, but
     * java.net.URI takes any digits as a port: 65536 and 0 pass, and then every call of the job is
     * a retriable transport failure ("port out of range:65536", "Connection refused: /...:0").
     */
    @Test
    void aProxyPortOutsideOneTo65535IsRefusedAtSubmission() {
        for (String url : List.of("http://127.0.0.1:65536", "http://proxy.corp.example:0")) {
            assertThat(
                            catchThrowable(
                                    () ->
                                            settings(
                                                    "llm.base-url=https://api.example.invalid/v1",
                                                    "llm.proxy.url=" + url)))
                    .as(url)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("llm.proxy.url");
        }
    }

    /**
     * A proxy that answers every CONNECT with a redirect (a captive or login portal in front of the
     * egress, which corporate proxies do) refuses every request of the endpoint, like its 407 or
     * 403 does. The client turns the 302 into a non-retriable HTTP_STATUS that {@link
     * LlmGateway#rejectsEveryRequest} does not count as the endpoint's: each ticket is rejected on
     * its own, i.e. goes to the fallback or becomes a dead letter, which is what the 407 change was
     * made to stop.
     */
    @Test
    void aProxyThatRedirectsEveryConnectDoesNotRejectTicketByTicket() throws Exception {
        try (ServerSocket proxy =
                canned(
                        "HTTP/1.1 302 Found\r\n"
                                + "Location: http://portal.corp.example/login\r\n"
                                + "Content-Length: 0\r\n\r\n")) {
            LlmSettings s =
                    settings(
                            "llm.base-url=https://api.example.invalid/v1",
                            "llm.proxy.url=http://127.0.0.1:" + proxy.getLocalPort());
            Throwable thrown;
            try (var client = new OpenAiChatClient(s, "sk-proxy-attack-0123456789")) {
                thrown =
                        catchThrowable(
                                () ->
                                        client.complete(
                                                        List.of(ChatMessage.user("Where is it?")),
                                                        null)
                                                .get());
            }
            assertThat(thrown).hasCauseInstanceOf(LlmException.class);
            LlmException e = (LlmException) thrown.getCause();
            assertThat(e.status()).isEqualTo(302);
            assertThat(e.retriable() || LlmGateway.rejectsEveryRequest(e))
                    .as(
                            "a proxy's refusal of the CONNECT is retried or opens the circuit, never"
                                    + " a per-ticket rejection: "
                                    + e.getMessage())
                    .isTrue();
        }
    }

    /** A proxy that reads each request head and answers it with {@code response}. */
    private static ServerSocket canned(String response) throws Exception {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t =
                new Thread(
                        () -> {
                            while (!server.isClosed()) {
                                try (Socket c = server.accept()) {
                                    InputStream in = c.getInputStream();
                                    StringBuilder head = new StringBuilder();
                                    while (head.length() < 4
                                            || !head.substring(head.length() - 4)
                                                    .equals("\r\n\r\n")) {
                                        int b = in.read();
                                        if (b < 0) {
                                            break;
                                        }
                                        head.append((char) b);
                                    }
                                    c.getOutputStream()
                                            .write(response.getBytes(StandardCharsets.ISO_8859_1));
                                    c.getOutputStream().flush();
                                    c.shutdownOutput();
                                    in.readAllBytes();
                                } catch (Exception e) {
                                    return;
                                }
                            }
                        },
                        "attack-proxy");
        t.setDaemon(true);
        t.start();
        return server;
    }
}
