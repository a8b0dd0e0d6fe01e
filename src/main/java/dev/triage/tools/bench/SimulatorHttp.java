package dev.triage.tools.bench;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** The bench's calls to the simulator's own endpoints: health, stats and the admin faults. */
final class SimulatorHttp {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private SimulatorHttp() {}

    static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static void post(int port, String path) throws Exception {
        HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.discarding());
    }

    static JsonNode stats(int port) throws Exception {
        return Json.MAPPER.readTree(get(port, "/stats").body());
    }
}
