package dev.triage.testing;

import dev.triage.config.CustomerSettings;
import dev.triage.config.GatewaySettings;
import dev.triage.config.JobSettings;
import dev.triage.config.LlmSettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.SessionSettings;

import org.apache.flink.configuration.Configuration;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Settings for tests, read from YAML through the job's own options, so a fixture names each value
 * by its key and gets the defaults, the checks and the typed views the job gets.
 */
public final class TestSettings {

    private final Configuration conf;

    private TestSettings(Configuration conf) {
        this.conf = conf;
    }

    /**
     * The settings of YAML texts, layered like settings files: a later text overrides the keys it
     * sets. Unknown keys and malformed values fail, as they do at submission.
     */
    public static TestSettings yaml(String... layers) {
        try {
            return new TestSettings(JobSettings.fromYaml(layers));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The options themselves, for code that reads them (e.g. {@code TriageJob.build}). */
    public Configuration conf() {
        return conf;
    }

    public SessionSettings session() {
        return SessionSettings.from(conf);
    }

    public GatewaySettings gateway() {
        return GatewaySettings.from(conf);
    }

    /** The primary endpoint ({@code llm.*}). */
    public LlmSettings primary() {
        return LlmSettings.primary(conf);
    }

    /** The fallback endpoint ({@code llm.fallback.*}), null when it has no base URL. */
    public LlmSettings fallback() {
        return LlmSettings.fallback(conf);
    }

    public PromptSettings prompt() {
        return PromptSettings.from(conf);
    }

    public CustomerSettings customers() {
        return CustomerSettings.from(conf);
    }
}
