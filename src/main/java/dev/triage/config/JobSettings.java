package dev.triage.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a job settings file (YAML, nested or dotted keys) plus {@code key=value} overrides into a
 * Flink {@link Configuration} holding {@link TriageOptions}. Unknown keys are an error, so a typo
 * never silently falls back to a default.
 */
public final class JobSettings {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private JobSettings() {}

    /**
     * Parses the job's command line: {@code FILE [FILE ...] [key=value ...]}. Files are layered: a
     * later file overrides the keys it sets (for example {@code jobs/local.yaml
     * jobs/backends/openai.yaml}), and {@code key=value} arguments override every file.
     */
    public static Configuration fromArgs(String[] args) throws IOException {
        List<Path> files = new ArrayList<>();
        List<String> overrides = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--settings") && i + 1 < args.length) {
                files.add(Path.of(args[++i]));
            } else if (arg.contains("=")) {
                overrides.add(arg.startsWith("--") ? arg.substring(2) : arg);
            } else {
                files.add(Path.of(arg));
            }
        }
        Map<String, String> flat = new LinkedHashMap<>();
        for (Path file : files) {
            try (InputStream in = Files.newInputStream(file)) {
                flat.putAll(flatten(YAML.readTree(in), file.toString()));
            }
        }
        for (String override : overrides) {
            int eq = override.indexOf('=');
            flat.put(override.substring(0, eq).trim(), override.substring(eq + 1).trim());
        }
        return toConfiguration(flat);
    }

    /**
     * Parses YAML texts (for tests and tools), layered like files: a later text overrides the keys
     * it sets.
     */
    public static Configuration fromYaml(String... layers) throws IOException {
        Map<String, String> flat = new LinkedHashMap<>();
        for (String yaml : layers) {
            flat.putAll(flatten(YAML.readTree(yaml), "<yaml>"));
        }
        return toConfiguration(flat);
    }

    static Configuration toConfiguration(Map<String, String> flat) {
        for (String key : flat.keySet()) {
            if (!isKnown(key)) {
                throw new IllegalArgumentException(
                        "Unknown job setting '"
                                + key
                                + "'. Known settings are declared in "
                                + TriageOptions.class.getName()
                                + " and listed in jobs/README.md.");
            }
        }
        Configuration conf = Configuration.fromMap(flat);
        // Read every option once so that a malformed value fails at submission, not on a
        // TaskManager.
        for (ConfigOption<?> option : TriageOptions.ALL) {
            try {
                conf.get(option);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                        "Invalid value for job setting '" + option.key() + "': " + e.getMessage(),
                        e);
            }
        }
        return conf;
    }

    private static boolean isKnown(String key) {
        for (ConfigOption<?> option : TriageOptions.ALL) {
            if (key.equals(option.key())) {
                return true;
            }
            boolean isMap = option.defaultValue() instanceof Map;
            if (isMap && key.startsWith(option.key() + ".")) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, String> flatten(JsonNode root, String source) {
        Map<String, String> out = new LinkedHashMap<>();
        if (root == null || root.isMissingNode() || root.isNull()) {
            return out;
        }
        if (!root.isObject()) {
            throw new IllegalArgumentException(source + ": settings must be a YAML mapping");
        }
        flatten("", root, out, source);
        return out;
    }

    private static void flatten(
            String prefix, JsonNode node, Map<String, String> out, String source) {
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey();
            JsonNode value = field.getValue();
            if (value.isObject()) {
                flatten(key, value, out, source);
            } else if (value.isArray()) {
                throw new IllegalArgumentException(source + ": '" + key + "' must not be a list");
            } else if (!value.isNull()) {
                out.put(key, value.asText());
            }
        }
    }
}
