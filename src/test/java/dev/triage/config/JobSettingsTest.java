package dev.triage.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

class JobSettingsTest {

    @Test
    void readsTheShippedLocalSettingsWithNestedKeysAndCategories() throws Exception {
        Configuration conf = JobSettings.fromArgs(new String[] {"jobs/local.yaml"});
        assertThat(conf.get(TriageOptions.TICKETS_TOPIC)).isEqualTo("tickets");
        assertThat(conf.get(TriageOptions.SESSION_IDLE_TIMEOUT)).isEqualTo(Duration.ofHours(1));
        PromptSettings prompts = PromptSettings.from(conf);
        assertThat(prompts.categories())
                .containsOnlyKeys("billing", "technical", "account", "shipping", "other");
        assertThat(prompts.categories().get("billing")).startsWith("Invoices");
        assertThat(prompts.systemPrompt()).contains("triage");
    }

    @Test
    void commandLineOverridesWin() throws Exception {
        Configuration conf =
                JobSettings.fromArgs(
                        new String[] {
                            "jobs/local.yaml", "session.max-in-flight=7", "--llm.model=m"
                        });
        assertThat(conf.get(TriageOptions.MAX_IN_FLIGHT)).isEqualTo(7);
        assertThat(conf.get(TriageOptions.LLM_MODEL)).isEqualTo("m");
    }

    @Test
    void defaultsApplyWhenNothingIsSet() throws Exception {
        Configuration conf = JobSettings.fromYaml("");
        assertThat(conf.get(TriageOptions.MAX_BODY_BYTES)).isEqualTo(32 * 1024);
        assertThat(SessionSettings.from(conf).idleTimeout()).isEqualTo(Duration.ofHours(1));
        assertThat(PromptSettings.from(conf).categories()).containsKey("other");
    }

    @Test
    void unknownKeysAreRejectedSoTyposDoNotFallBackToDefaults() {
        assertThatThrownBy(() -> JobSettings.fromYaml("session:\n  max-in-flght: 3\n"))
                .hasMessageContaining("session.max-in-flght");
    }

    @Test
    void malformedValuesFailAtSubmission() {
        assertThatThrownBy(() -> JobSettings.fromYaml("session.idle-timeout: often"))
                .hasMessageContaining("session.idle-timeout");
    }

    @Test
    void everyOptionIsDocumentedInJobsReadme() throws Exception {
        String readme = Files.readString(Path.of("jobs/README.md"));
        for (ConfigOption<?> option : TriageOptions.ALL) {
            assertThat(readme).as(option.key()).contains("`" + option.key() + "`");
        }
        // The table is generated: java -cp ... dev.triage.tools.OptionsDoc
        assertThat(readme).contains(dev.triage.tools.OptionsDoc.table());
    }
}
