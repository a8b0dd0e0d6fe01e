package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.config.EndpointOptions.Auth;
import dev.triage.config.EndpointOptions.StructuredOutput;
import dev.triage.io.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.List;

/**
 * Attacks on the request body's cache of the first message and the schema (session 7), which
 * compares them by identity: the body must still be the JSON of what the caller passed.
 */
class AttackRequestBodyTest {

    private static OpenAiChatClient client(StructuredOutput mode) {
        return new OpenAiChatClient(
                OpenAiChatClientTest.settings(
                        "http://127.0.0.1:9/v1",
                        Auth.NONE,
                        "",
                        mode,
                        "max_tokens",
                        Duration.ofSeconds(1)),
                null);
    }

    /**
     * {@code LlmClient.complete} takes a {@code JsonNode}, and {@code PromptBuilder.answerSchema()}
     * hands out its mutable {@code ObjectNode}: a schema changed in place (a category added, a
     * field tightened) is the same instance, so the cache keeps sending the old schema and the old
     * prompt text. Before session 7 every body was printed from what was passed.
     */
    @ParameterizedTest
    @EnumSource(
            value = StructuredOutput.class,
            names = {"JSON_SCHEMA", "JSON_OBJECT", "PROMPT"})
    void aSchemaChangedInPlaceIsSentAsItIsNow(StructuredOutput mode) {
        ObjectNode schema = Json.object().put("type", "object");
        List<ChatMessage> messages =
                List.of(ChatMessage.system("Triage."), ChatMessage.user("Where is my refund?"));
        try (var client = client(mode)) {
            assertThat(client.requestBody(messages, schema))
                    .isEqualTo(RequestBodyTest.asTree(messages, schema, mode));
            schema.putObject("properties").putObject("category").put("type", "string");
            assertThat(client.requestBody(messages, schema))
                    .as("the schema as it is at this call")
                    .contains("category")
                    .isEqualTo(RequestBodyTest.asTree(messages, schema, mode));
        }
    }

    /**
     * In JSON_SCHEMA mode the schema is looked up with {@code messages.get(0)}: a request without
     * messages throws IndexOutOfBoundsException from requestBody (complete() then throws on the
     * caller's thread instead of returning a failed future); before, it was a body the endpoint
     * answers with a 400.
     */
    @org.junit.jupiter.api.Test
    void aRequestWithoutMessagesIsStillABody() {
        StructuredOutput mode = StructuredOutput.JSON_SCHEMA;
        JsonNode schema = Json.object().put("type", "object");
        try (var client = client(mode)) {
            assertThat(client.requestBody(List.of(), schema))
                    .isEqualTo(RequestBodyTest.asTree(List.of(), schema, mode));
        }
    }
}
