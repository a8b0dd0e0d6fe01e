package dev.triage.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code settings --get}: effective values through the real options, defaults, layering, errors.
 */
class SettingsCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return new CommandLine(new TriageTools())
                .setOut(new PrintWriter(out))
                .setErr(new PrintWriter(err))
                .execute(args);
    }

    @Test
    void printsTheValuesOfTheLocalStacksFileInTheOrderAsked() {
        int rc =
                run(
                        "settings",
                        "--get",
                        "kafka.topics.results",
                        "--get",
                        "kafka.bootstrap-servers",
                        "--get",
                        "job.name",
                        "--job",
                        "jobs/local.yaml");

        assertThat(rc).isZero();
        assertThat(out.toString().lines())
                .containsExactly("triage-results", "localhost:9092", "support-triage");
    }

    @Test
    void aKeyTheFileDoesNotSetPrintsItsDefault() {
        int rc = run("settings", "--get", "kafka.topics.customers", "--job", "jobs/local.yaml");

        assertThat(rc).isZero();
        assertThat(out.toString().lines()).containsExactly("customers");
    }

    @Test
    void withoutAFileEveryValueIsTheDefault() {
        int rc = run("settings", "--get", "kafka.bootstrap-servers", "--get", "llm.base-url");

        assertThat(rc).isZero();
        assertThat(out.toString().lines())
                .containsExactly("localhost:9092", "http://localhost:8000/v1");
    }

    @Test
    void laterFilesOverrideEarlierOnes() {
        int rc =
                run(
                        "settings",
                        "--get",
                        "kafka.bootstrap-servers",
                        "--get",
                        "kafka.topics.tickets",
                        "--job",
                        "jobs/local.yaml",
                        "--job",
                        "jobs/local-secure.yaml");

        assertThat(rc).isZero();
        assertThat(out.toString().lines()).containsExactly("localhost:9094", "tickets");
    }

    @Test
    void aDurationPrintsInFlinksOwnForm(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("job.yaml");
        Files.writeString(file, "kafka:\n  transaction-timeout: 90s\n");

        int rc = run("settings", "--get", "kafka.transaction-timeout", "--job", file.toString());

        assertThat(rc).isZero();
        assertThat(out.toString().lines()).containsExactly("90 s");
    }

    @Test
    void anUnknownKeyExitsWithTwoAndPrintsNothing() {
        int rc = run("settings", "--get", "job.name", "--get", "kafka.topic.tickets");

        assertThat(rc).isEqualTo(SettingsCommand.UNKNOWN_KEY).isEqualTo(2);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).contains("kafka.topic.tickets");
    }

    @Test
    void anUnknownKeyInTheFileFailsLikeTheJobWould(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("job.yaml");
        Files.writeString(file, "kafka:\n  bootstrap-server: typo:9092\n");

        int rc = run("settings", "--get", "kafka.bootstrap-servers", "--job", file.toString());

        assertThat(rc).isNotZero();
        assertThat(out.toString()).isEmpty();
    }
}
