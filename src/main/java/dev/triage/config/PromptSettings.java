package dev.triage.config;

import dev.triage.io.LabelledCsv;

import org.apache.flink.configuration.ReadableConfig;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The system prompt, the categories (name to description, sorted by name) and labelled few-shot
 * examples for the prompt (read from {@code triage.few-shot.file} when the job is submitted, so the
 * TaskManagers need no copy of the file).
 */
public record PromptSettings(
        String systemPrompt,
        TreeMap<String, String> categories,
        List<FewShot> fewShot,
        int maxSummaryChars,
        int maxDraftReplyChars)
        implements Serializable {

    /** One labelled example ticket for the prompt. */
    public record FewShot(String text, String category) implements Serializable {}

    public PromptSettings {
        if (categories.isEmpty()) {
            throw new IllegalArgumentException("triage.categories must name at least one category");
        }
        fewShot = fewShot == null ? List.of() : List.copyOf(fewShot);
    }

    /** With the default bounds on the answer's texts. */
    public PromptSettings(
            String systemPrompt, TreeMap<String, String> categories, List<FewShot> fewShot) {
        this(
                systemPrompt,
                categories,
                fewShot,
                TriageOptions.MAX_SUMMARY_CHARS.defaultValue(),
                TriageOptions.MAX_DRAFT_REPLY_CHARS.defaultValue());
    }

    public static PromptSettings from(ReadableConfig conf) {
        Map<String, String> categories = conf.get(TriageOptions.CATEGORIES);
        String file = conf.get(TriageOptions.FEW_SHOT_FILE);
        List<FewShot> examples =
                file.isBlank()
                        ? List.of()
                        : readFewShot(Path.of(file), conf.get(TriageOptions.FEW_SHOT_PER_CLASS));
        for (FewShot e : examples) {
            if (!categories.containsKey(e.category())) {
                throw new IllegalArgumentException(
                        "few-shot example labelled '"
                                + e.category()
                                + "' is not one of triage.categories "
                                + categories.keySet());
            }
        }
        return new PromptSettings(
                conf.get(TriageOptions.SYSTEM_PROMPT),
                new TreeMap<>(categories),
                examples,
                conf.get(TriageOptions.MAX_SUMMARY_CHARS),
                conf.get(TriageOptions.MAX_DRAFT_REPLY_CHARS));
    }

    /** Reads a CSV with {@code text} and {@code label} columns, at most k per label (0: all). */
    public static List<FewShot> readFewShot(Path csv, int perClass) {
        try (Reader in = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
            return LabelledCsv.read(in, "text", "label", perClass).stream()
                    .map(r -> new FewShot(r.text(), r.label()))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the few-shot examples " + csv, e);
        }
    }
}
