package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.config.EndpointOptions.Auth;
import dev.triage.config.EndpointOptions.StructuredOutput;
import dev.triage.io.Json;
import dev.triage.prompt.PromptBuilder;
import dev.triage.records.Ticket;
import dev.triage.session.Turn;
import dev.triage.testing.TestSettings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.List;

/**
 * The request body is written field by field, with the system message and schema escaped once: it
 * must be byte for byte the JSON a tree of the same request prints, on the first request and on
 * every later one.
 */
class RequestBodyTest {

    private final PromptBuilder prompts =
            new PromptBuilder(
                    TestSettings.yaml(
                                    // YAML's escapes: a quote and a line separator in the prompt.
                                    "triage.system-prompt: \"Triage \\\"this\\\" \\u2028 </ticket>.\"",
                                    "triage.categories: {billing: money, other: rest}")
                            .prompt());

    private List<ChatMessage> messages(String body) {
        Ticket ticket =
                new Ticket("T-2", "S-1", null, "email", "Refund \ud83d\ude00", body, 0, "t", 0, 0);
        Turn earlier =
                new Turn(1, "T-1", "Ticket T-1\n\nI was charged twice.", "{\"summary\":\"x\"}");
        return prompts.messages(List.of(earlier), ticket);
    }

    /** The body as the client wrote it before: a Jackson tree, printed. */
    static String asTree(List<ChatMessage> messages, JsonNode schema, StructuredOutput mode) {
        ObjectNode root = Json.object();
        root.put("model", "gpt-test");
        ArrayNode msgs = root.putArray("messages");
        boolean first = true;
        for (ChatMessage m : messages) {
            String content = m.content();
            if (first && schema != null && mode != StructuredOutput.JSON_SCHEMA) {
                content +=
                        "\n\nReply with only a JSON object (no Markdown) that follows this JSON"
                                + " schema:\n"
                                + schema;
            }
            first = false;
            msgs.addObject().put("role", m.role()).put("content", content);
        }
        root.put("temperature", 0.0);
        root.put("max_tokens", 300);
        if (schema != null && mode == StructuredOutput.JSON_SCHEMA) {
            ObjectNode js = root.putObject("response_format").put("type", "json_schema");
            js.putObject("json_schema")
                    .put("name", "triage")
                    .put("strict", true)
                    .set("schema", schema);
        } else if (schema != null && mode == StructuredOutput.JSON_OBJECT) {
            root.putObject("response_format").put("type", "json_object");
        }
        return root.toString();
    }

    @ParameterizedTest
    @EnumSource(StructuredOutput.class)
    void theBodyIsTheTreesJsonOnEveryRequest(StructuredOutput mode) {
        try (var client =
                new OpenAiChatClient(
                        OpenAiChatClientTest.settings(
                                "http://127.0.0.1:9/v1",
                                Auth.NONE,
                                "",
                                mode,
                                "max_tokens",
                                Duration.ofSeconds(1)),
                        null)) {
            for (String body : List.of("first \\ \u0001", "second \"quoted\"", "third")) {
                List<ChatMessage> messages = messages(body);
                assertThat(client.requestBody(messages, prompts.answerSchema()))
                        .isEqualTo(asTree(messages, prompts.answerSchema(), mode));
                assertThat(client.requestBody(messages, null))
                        .isEqualTo(asTree(messages, null, mode));
            }
            // Another system message (another builder) is not served from what was kept.
            List<ChatMessage> other = List.of(ChatMessage.system("Other."), ChatMessage.user("hi"));
            assertThat(client.requestBody(other, prompts.answerSchema()))
                    .isEqualTo(asTree(other, prompts.answerSchema(), mode));
        }
    }
}
