package dev.triage.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

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
    void everyShippedBackendLayersOverTheLocalSettings() throws Exception {
        try (var files = Files.list(Path.of("jobs/backends"))) {
            List<Path> backends = files.filter(f -> f.toString().endsWith(".yaml")).toList();
            assertThat(backends).hasSizeGreaterThanOrEqualTo(5);
            for (Path backend : backends) {
                Configuration conf =
                        JobSettings.fromArgs(new String[] {"jobs/local.yaml", backend.toString()});
                GatewaySettings gateway = GatewaySettings.from(conf);
                assertThat(gateway.primary().baseUrl()).as(backend.toString()).isNotBlank();
                // The deployment's own keys survive the layering.
                assertThat(conf.get(TriageOptions.TICKETS_TOPIC)).isEqualTo("tickets");
            }
        }
    }

    @Test
    void pricesGiveTheEstimatedCostOfAReply() throws Exception {
        Configuration conf =
                JobSettings.fromArgs(new String[] {"jobs/local.yaml", "jobs/backends/openai.yaml"});
        LlmSettings openai = LlmSettings.primary(conf);
        // 2,000 prompt tokens at 0.15 and 400 completion tokens at 0.60 per million.
        assertThat(openai.cost(2_000, 400)).isCloseTo(0.00054, within(1e-12));
        // Unpriced endpoints cost nothing rather than a guess.
        assertThat(
                        LlmSettings.primary(JobSettings.fromArgs(new String[] {"jobs/local.yaml"}))
                                .cost(2_000, 400))
                .isZero();
    }

    @Test
    void azureSettingsSendTheKeyInItsHeaderWithAnApiVersion() throws Exception {
        Configuration conf =
                JobSettings.fromArgs(
                        new String[] {"jobs/local.yaml", "jobs/backends/azure-openai.yaml"});
        LlmSettings azure = LlmSettings.primary(conf);
        assertThat(azure.auth()).isEqualTo(EndpointOptions.Auth.API_KEY);
        assertThat(azure.apiVersion()).isEqualTo("2024-10-21");
        assertThat(LlmSettings.fallback(conf)).isNull();

        Configuration withFallback =
                JobSettings.fromArgs(
                        new String[] {
                            "jobs/local.yaml",
                            "jobs/backends/openai.yaml",
                            "jobs/backends/local-with-fallback.yaml"
                        });
        assertThat(GatewaySettings.from(withFallback).endpoints())
                .extracting(LlmSettings::name, LlmSettings::model)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("primary", "gpt-4o-mini"),
                        org.assertj.core.groups.Tuple.tuple("fallback", "local-triage"));
    }

    @Test
    void theApiKeyComesFromItsFileBeforeTheEnvironmentAndIsNeverInTheSettings(
            @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path keyFile = dir.resolve("key");
        Files.writeString(keyFile, "sk-from-file\n");
        Configuration conf =
                JobSettings.fromArgs(
                        new String[] {
                            "jobs/local.yaml", "llm.api-key-file=" + keyFile, "llm.api-key-env=K"
                        });
        LlmSettings s = LlmSettings.primary(conf);
        assertThat(s.resolveApiKey(Map.of("K", "sk-from-env"))).isEqualTo("sk-from-file");
        assertThat(s.toString()).doesNotContain("sk-from");
        assertThat(conf.toMap().values()).noneMatch(v -> v.contains("sk-from"));

        LlmSettings envOnly =
                LlmSettings.primary(JobSettings.fromArgs(new String[] {"llm.api-key-env=K"}));
        assertThat(envOnly.resolveApiKey(Map.of("K", " sk-from-env "))).isEqualTo("sk-from-env");
        assertThat(envOnly.resolveApiKey(Map.of())).isNull();

        LlmSettings missing =
                LlmSettings.primary(
                        JobSettings.fromArgs(
                                new String[] {"llm.api-key-file=" + dir.resolve("no")}));
        assertThatThrownBy(() -> missing.resolveApiKey(Map.of()))
                .hasMessageContaining("API key file")
                .hasMessageContaining("primary");
    }

    @Test
    void theFallbackGetsNoKeyUnlessItIsGivenOneOfItsOwn() throws Exception {
        // Before, llm.fallback.api-key-env defaulted to OPENAI_API_KEY: pointing only the
        // fallback's
        // base-url at another host sent it the primary's key.
        LlmSettings fallback =
                LlmSettings.fallback(
                        JobSettings.fromArgs(
                                new String[] {"llm.fallback.base-url=https://vllm.internal/v1"}));
        assertThat(fallback.resolveApiKey(Map.of("OPENAI_API_KEY", "sk-primary"))).isNull();
        LlmSettings own =
                LlmSettings.fallback(
                        JobSettings.fromArgs(
                                new String[] {
                                    "llm.fallback.base-url=https://other.example/v1",
                                    "llm.fallback.api-key-env=OTHER_KEY"
                                }));
        assertThat(own.resolveApiKey(Map.of("OPENAI_API_KEY", "sk-primary", "OTHER_KEY", "sk-o")))
                .isEqualTo("sk-o");
    }

    @Test
    void aKeyIsNeverSentOverPlainHttpToAnotherHostUnlessASettingSaysSo() throws Exception {
        for (String[] args :
                new String[][] {
                    {"llm.base-url=http://vllm.internal:8000/v1"},
                    {"llm.base-url=HTTP://10.0.0.7/v1", "llm.auth=API_KEY"},
                    {
                        "llm.fallback.base-url=http://other.example/v1",
                        "llm.fallback.api-key-env=OTHER_KEY"
                    },
                }) {
            assertThatThrownBy(
                            () -> GatewaySettings.from(JobSettings.fromArgs(args)),
                            String.join(" ", args))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("clear text")
                    .hasMessageContaining("allow-key-over-plain-http");
        }
        for (String[] args :
                new String[][] {
                    {"llm.base-url=http://localhost:8000/v1"},
                    {"llm.base-url=http://127.0.0.1:8000/v1"},
                    {"llm.base-url=http://[::1]:8000/v1"},
                    {"llm.base-url=https://api.openai.com/v1"},
                    {"llm.base-url=http://vllm.internal:8000/v1", "llm.auth=NONE"},
                    {"llm.base-url=http://vllm.internal:8000/v1", "llm.api-key-env="},
                    {
                        "llm.base-url=http://vllm.internal:8000/v1",
                        "llm.allow-key-over-plain-http=true"
                    },
                    {"llm.fallback.base-url=http://vllm.internal/v1"}, // no key of its own
                }) {
            assertThat(GatewaySettings.from(JobSettings.fromArgs(args)).endpoints())
                    .as(String.join(" ", args))
                    .isNotEmpty();
        }
    }

    @Test
    void eachEndpointHasItsOwnProxyWithItsPasswordFromAFileOrTheEnvironment(
            @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path passwordFile = dir.resolve("proxy-password");
        Files.writeString(passwordFile, "pp-from-file\n");
        Configuration conf =
                JobSettings.fromArgs(
                        new String[] {
                            "llm.base-url=https://api.openai.com/v1",
                            "llm.proxy.url=http://proxy.corp.example:3128",
                            "llm.proxy.username=triage",
                            "llm.proxy.password-file=" + passwordFile,
                            "llm.fallback.base-url=http://vllm.internal:8000/v1"
                        });
        GatewaySettings gateway = GatewaySettings.from(conf);
        LlmSettings.Proxy proxy = gateway.endpoints().get(0).proxy();
        assertThat(proxy.host()).isEqualTo("proxy.corp.example");
        assertThat(proxy.port()).isEqualTo(3128);
        assertThat(proxy.username()).isEqualTo("triage");
        assertThat(proxy.resolvePassword(Map.of())).isEqualTo("pp-from-file");
        assertThat(gateway.endpoints().get(0).toString()).doesNotContain("pp-from");
        assertThat(conf.toMap().values()).noneMatch(v -> v.contains("pp-from"));
        assertThat(gateway.endpoints().get(1).proxy())
                .as("the fallback (often inside the network) does not inherit the proxy")
                .isNull();

        LlmSettings fallback =
                LlmSettings.fallback(
                        JobSettings.fromArgs(
                                new String[] {
                                    "llm.fallback.base-url=https://other.example/v1",
                                    "llm.fallback.proxy.url=HTTP://[::1]:8080/",
                                    "llm.fallback.proxy.username=t",
                                    "llm.fallback.proxy.password-env=PROXY_PASSWORD"
                                }));
        assertThat(fallback.proxy().host()).isEqualTo("::1");
        assertThat(fallback.proxy().port()).isEqualTo(8080);
        assertThat(fallback.proxy().resolvePassword(Map.of("PROXY_PASSWORD", " pp-env ")))
                .isEqualTo("pp-env");
        assertThat(LlmSettings.primary(JobSettings.fromArgs(new String[0])).proxy())
                .as("no proxy by default")
                .isNull();
    }

    @Test
    void aProxyUrlOtherThanHttpHostAndPortIsRefusedAtSubmission() {
        Map<String, String> refused =
                Map.of(
                        "https://proxy.corp:3128", "http://",
                        "socks5://proxy.corp:1080", "http://",
                        "proxy.corp:3128", "http://",
                        "http://triage:s3cret-pw@proxy.corp:3128", "llm.proxy.password-file",
                        "http://proxy.corp:3128/some/path", "path",
                        "http://proxy.corp:3128?x=1", "query",
                        "http://proxy.corp", "port",
                        "http://proxy corp:3128", "llm.proxy.url");
        refused.forEach(
                (url, says) ->
                        assertThatThrownBy(
                                        () ->
                                                GatewaySettings.from(
                                                        JobSettings.fromArgs(
                                                                new String[] {
                                                                    "llm.proxy.url=" + url
                                                                })),
                                        url)
                                .isInstanceOf(IllegalArgumentException.class)
                                .hasMessageContaining("llm.proxy.url")
                                .hasMessageContaining(says)
                                .hasMessageNotContaining("s3cret-pw"));
        for (String[] args :
                new String[][] {
                    {"llm.proxy.url=http://p:3128", "llm.proxy.username=triage"},
                    {"llm.proxy.url=http://p:3128", "llm.proxy.password-env=PROXY_PASSWORD"},
                    {"llm.proxy.username=triage", "llm.proxy.password-env=PROXY_PASSWORD"},
                    {
                        "llm.proxy.url=http://p:3128",
                        "llm.proxy.username=a:b",
                        "llm.proxy.password-env=P"
                    },
                }) {
            assertThatThrownBy(
                            () -> GatewaySettings.from(JobSettings.fromArgs(args)),
                            String.join(" ", args))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("llm.proxy.");
        }
        assertThatThrownBy(
                        () ->
                                GatewaySettings.from(
                                        JobSettings.fromArgs(
                                                new String[] {
                                                    "llm.fallback.base-url=https://o.example/v1",
                                                    "llm.fallback.proxy.url=ftp://p:21"
                                                })))
                .hasMessageContaining("llm.fallback.proxy.url");
    }

    @Test
    void aKeyToAPlainHttpEndpointThroughAProxyElsewhereCrossesTheNetworkInClearText()
            throws Exception {
        for (String[] args :
                new String[][] {
                    {
                        "llm.base-url=http://localhost:8000/v1",
                        "llm.proxy.url=http://proxy.corp:3128"
                    },
                    {
                        "llm.base-url=http://vllm.internal:8000/v1",
                        "llm.proxy.url=http://127.0.0.1:3128"
                    },
                }) {
            assertThatThrownBy(
                            () -> GatewaySettings.from(JobSettings.fromArgs(args)),
                            String.join(" ", args))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("clear text")
                    .hasMessageContaining("allow-key-over-plain-http");
        }
        for (String[] args :
                new String[][] {
                    {
                        "llm.base-url=https://api.openai.com/v1",
                        "llm.proxy.url=http://proxy.corp:3128"
                    },
                    {
                        "llm.base-url=http://localhost:8000/v1",
                        "llm.proxy.url=http://127.0.0.1:3128"
                    },
                    {
                        "llm.base-url=http://vllm.internal:8000/v1",
                        "llm.proxy.url=http://proxy.corp:3128",
                        "llm.auth=NONE"
                    },
                    {
                        "llm.base-url=http://localhost:8000/v1",
                        "llm.proxy.url=http://proxy.corp:3128",
                        "llm.allow-key-over-plain-http=true"
                    },
                }) {
            assertThat(GatewaySettings.from(JobSettings.fromArgs(args)).endpoints())
                    .as(String.join(" ", args))
                    .isNotEmpty();
        }
    }

    @Test
    void fewShotExamplesAreReadAtSubmissionAndShownInThePrompt(
            @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path csv = dir.resolve("shots.csv");
        Files.writeString(
                csv,
                "text,label\n\"Charged twice\",billing\n\"Refund please\",billing\n"
                        + "\"Parcel lost\",shipping\n");
        Configuration conf =
                JobSettings.fromArgs(
                        new String[] {
                            "jobs/local.yaml",
                            "triage.few-shot.file=" + csv,
                            "triage.few-shot.per-class=1"
                        });
        PromptSettings prompts = PromptSettings.from(conf);
        assertThat(prompts.fewShot())
                .extracting(PromptSettings.FewShot::category)
                .containsExactly("billing", "shipping");
        String system =
                new dev.triage.prompt.PromptBuilder(prompts)
                        .messages(
                                List.of(),
                                new dev.triage.records.Ticket(
                                        "T", "S", null, null, null, "b", 0, "t", 0, 0))
                        .get(0)
                        .content();
        assertThat(system).contains("- \"Charged twice\" -> billing").doesNotContain("Refund");

        Files.writeString(csv, "text,label\n\"Hello\",astrology\n");
        assertThatThrownBy(
                        () ->
                                PromptSettings.from(
                                        JobSettings.fromArgs(
                                                new String[] {
                                                    "jobs/local.yaml", "triage.few-shot.file=" + csv
                                                })))
                .hasMessageContaining("astrology");
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
    void startingOffsetsAreReadFromTheValuesUsersWrite() throws Exception {
        assertThat(JobSettings.fromYaml("").get(TriageOptions.STARTING_OFFSETS))
                .isEqualTo(StartingOffsets.COMMITTED_OR_EARLIEST);
        Map<String, StartingOffsets> written =
                Map.of(
                        "earliest", StartingOffsets.EARLIEST,
                        "latest", StartingOffsets.LATEST,
                        "committed-or-earliest", StartingOffsets.COMMITTED_OR_EARLIEST,
                        "EARLIEST", StartingOffsets.EARLIEST);
        written.forEach(
                (value, expected) -> {
                    try {
                        assertThat(
                                        JobSettings.fromYaml(
                                                        "kafka:\n  starting-offsets: "
                                                                + value
                                                                + "\n")
                                                .get(TriageOptions.STARTING_OFFSETS))
                                .as(value)
                                .isEqualTo(expected);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
        assertThat(
                        JobSettings.fromArgs(
                                        new String[] {
                                            "jobs/local.yaml", "kafka.starting-offsets=latest"
                                        })
                                .get(TriageOptions.STARTING_OFFSETS))
                .isEqualTo(StartingOffsets.LATEST);
        assertThatThrownBy(() -> JobSettings.fromYaml("kafka.starting-offsets: newest"))
                .hasMessageContaining("kafka.starting-offsets");
    }

    @Test
    void everyOptionIsDocumentedInJobsReadme() throws Exception {
        String readme = Files.readString(Path.of("jobs/README.md"));
        for (ConfigOption<?> option : TriageOptions.ALL) {
            assertThat(readme).as(option.key()).contains("`" + option.key() + "`");
        }
        // The table is generated: java -cp ... dev.triage.tools.cli.OptionsDoc
        assertThat(readme).contains(dev.triage.tools.cli.OptionsDoc.table());
    }
}
