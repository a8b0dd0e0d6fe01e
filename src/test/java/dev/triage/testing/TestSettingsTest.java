package dev.triage.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.triage.config.EndpointOptions.Auth;

import org.junit.jupiter.api.Test;

import java.time.Duration;

/** The fixture reads YAML as the job does: layers, defaults, typed views and the job's checks. */
class TestSettingsTest {

    @Test
    void laterLayersOverrideEarlierOnesAndTheRestKeepsItsDefault() {
        TestSettings s =
                TestSettings.yaml(
                        """
                        session:
                          max-in-flight: 4
                          history-turns: 2
                        llm.auth: NONE
                        """,
                        "session.max-in-flight: 7");
        assertThat(s.session().maxInFlight()).isEqualTo(7);
        assertThat(s.session().historyTurns()).isEqualTo(2);
        assertThat(s.session().idleTimeout()).isEqualTo(Duration.ofHours(1));
        assertThat(s.primary().auth()).isEqualTo(Auth.NONE);
        assertThat(s.fallback()).isNull();
        assertThat(s.gateway().endpoints()).hasSize(1);
    }

    @Test
    void aFallbackWithABaseUrlIsTheGatewaysSecondEndpoint() {
        TestSettings s =
                TestSettings.yaml(
                        """
                        llm.fallback.base-url: http://fake/fallback
                        llm.fallback.model: other
                        """);
        assertThat(s.fallback().name()).isEqualTo("fallback");
        assertThat(s.gateway().endpoints())
                .extracting("model")
                .containsExactly("local-triage", "other");
    }

    @Test
    void yamlEscapesAndMapsReachThePromptAsWritten() {
        var prompt =
                TestSettings.yaml(
                                "triage.system-prompt: \"Triage \\\"this\\\" \\u2028 </ticket>.\"",
                                """
                                triage.categories:
                                  billing: Invoices, charges, refunds.
                                  other: Rest.
                                """)
                        .prompt();
        assertThat(prompt.systemPrompt()).isEqualTo("Triage \"this\" \u2028 </ticket>.");
        assertThat(prompt.categories())
                .containsExactly(
                        java.util.Map.entry("billing", "Invoices, charges, refunds."),
                        java.util.Map.entry("other", "Rest."));
    }

    @Test
    void unknownKeysAndMalformedValuesFailAsTheyDoAtSubmission() {
        assertThatThrownBy(() -> TestSettings.yaml("session.max-in-flght: 4"))
                .hasMessageContaining("session.max-in-flght");
        assertThatThrownBy(() -> TestSettings.yaml("session.max-in-flight: many"))
                .hasMessageContaining("session.max-in-flight");
        assertThatThrownBy(() -> TestSettings.yaml("session.max-in-flight: 0").session())
                .hasMessageContaining("session.max-in-flight");
    }
}
