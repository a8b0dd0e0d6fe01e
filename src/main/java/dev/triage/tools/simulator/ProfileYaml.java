package dev.triage.tools.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;

/**
 * Provider profiles as YAML files: the shipped ones in {@code src/main/resources/profiles/} or a
 * file of the user's; every field is optional and an unknown one is an error.
 */
final class ProfileYaml {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Set<String> FIELDS =
            Set.of(
                    "name",
                    "description",
                    "latency",
                    "rpm",
                    "tpm",
                    "rate-limit-headers",
                    "max-concurrency",
                    "server-error-rate",
                    "timeout-rate",
                    "malformed-rate",
                    "truncated-rate",
                    "refusal-rate",
                    "fail-permanently",
                    "outage",
                    "drop-rate");

    /** Loads a profile by name from the shipped ones ({@code openai-tier1}) or from a file. */
    static ProviderProfile load(String nameOrFile) throws IOException {
        Path file = Path.of(nameOrFile);
        if (Files.isRegularFile(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                return parse(in, nameOrFile);
            }
        }
        String resource = "/profiles/" + nameOrFile.replaceAll("\\.ya?ml$", "") + ".yaml";
        try (InputStream in = ProfileYaml.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException(
                        "no provider profile '"
                                + nameOrFile
                                + "': neither a file nor one of the shipped profiles"
                                + " (src/main/resources/profiles/)");
            }
            return parse(in, nameOrFile);
        }
    }

    static ProviderProfile parse(InputStream yaml, String source) throws IOException {
        JsonNode root = YAML.readTree(yaml);
        if (root == null || !root.isObject()) {
            throw new IOException(source + ": a provider profile must be a YAML mapping");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw new IOException(source + ": unknown field '" + field + "'; known: " + FIELDS);
            }
        }
        JsonNode latency = root.path("latency");
        JsonNode outage = root.path("outage");
        return new ProviderProfile(
                root.path("name").asText(source),
                millis(latency.path("median"), 0),
                millis(latency.path("p99"), 0),
                root.path("rpm").asInt(0),
                root.path("tpm").asInt(0),
                root.path("rate-limit-headers").asBoolean(true),
                root.path("max-concurrency").asInt(0),
                root.path("server-error-rate").asDouble(0),
                root.path("timeout-rate").asDouble(0),
                root.path("malformed-rate").asDouble(0),
                root.path("truncated-rate").asDouble(0),
                root.path("refusal-rate").asDouble(0),
                root.hasNonNull("fail-permanently") ? root.get("fail-permanently").asText() : null,
                outage.isMissingNode() ? -1 : millis(outage.path("after"), 0),
                millis(outage.path("duration"), 0),
                outage.path("status").asInt(503),
                rate(root.path("drop-rate"), "drop-rate", source));
    }

    private static double rate(JsonNode node, String field, String source) throws IOException {
        double r = node.asDouble(0);
        if (!(r >= 0 && r <= 1)) {
            throw new IOException(source + ": '" + field + "' must be between 0 and 1");
        }
        return r;
    }

    /** A YAML duration: a number of milliseconds or a string such as "30s" or "250ms". */
    private static long millis(JsonNode node, long dflt) {
        if (node.isMissingNode() || node.isNull()) {
            return dflt;
        }
        if (node.isNumber()) {
            return node.asLong();
        }
        String text = node.asText().trim();
        return org.apache.flink.util.TimeUtils.parseDuration(text).toMillis();
    }

    private ProfileYaml() {}
}
