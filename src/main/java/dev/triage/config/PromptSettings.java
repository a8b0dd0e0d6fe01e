package dev.triage.config;

import org.apache.flink.configuration.ReadableConfig;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/** The system prompt and the categories (name to description), sorted by name. */
public record PromptSettings(String systemPrompt, TreeMap<String, String> categories)
        implements Serializable {

    public PromptSettings {
        if (categories.isEmpty()) {
            throw new IllegalArgumentException("triage.categories must name at least one category");
        }
    }

    public static PromptSettings from(ReadableConfig conf) {
        Map<String, String> categories = conf.get(TriageOptions.CATEGORIES);
        return new PromptSettings(conf.get(TriageOptions.SYSTEM_PROMPT), new TreeMap<>(categories));
    }
}
