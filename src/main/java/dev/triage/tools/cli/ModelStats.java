package dev.triage.tools.cli;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code model-stats}: counters of the local model server's {@code GET /stats} as plain words. */
@Command(
        name = "model-stats",
        description =
                "Print counters of the local model server's /stats, one a line in the order asked"
                        + " (a counter it does not keep: 0).")
final class ModelStats implements Callable<Integer> {

    @Option(
            names = "--url",
            required = true,
            description = "The model server, e.g. http://localhost:8000")
    String url;

    @Option(
            names = "--field",
            required = true,
            paramLabel = "NAME",
            description = "A counter (repeatable).")
    List<String> fields = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        String body;
        try {
            HttpResponse<String> response =
                    HttpClient.newBuilder()
                            .connectTimeout(Duration.ofSeconds(3))
                            .build()
                            .send(
                                    HttpRequest.newBuilder(URI.create(url + "/stats"))
                                            .timeout(Duration.ofSeconds(5))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IOException("GET /stats answered " + response.statusCode());
            }
            body = response.body();
        } catch (IOException e) {
            System.err.println("model-stats: " + url + " does not answer: " + e.getMessage());
            return 1;
        }
        values(body, fields).forEach(System.out::println);
        return 0;
    }

    /** The counters named by {@code fields} in a /stats body, 0 for those it lacks. */
    static List<Long> values(String stats, List<String> fields) throws IOException {
        JsonNode node = Json.MAPPER.readTree(stats);
        return fields.stream().map(f -> node.path(f).asLong(0)).toList();
    }
}
