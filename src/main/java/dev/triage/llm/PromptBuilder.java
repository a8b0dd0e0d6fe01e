package dev.triage.llm;

import dev.triage.config.PromptSettings;
import dev.triage.records.CustomerContext;
import dev.triage.records.CustomerProfile;
import dev.triage.records.Json;
import dev.triage.records.PastTicket;
import dev.triage.records.Ticket;
import dev.triage.session.Turn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds the chat request for a ticket: the system prompt with the categories, the session's
 * earlier turns as user/assistant pairs, then the ticket; and the JSON schema of the answer.
 */
public final class PromptBuilder {

    private final String systemMessage;
    private final ObjectNode answerSchema;

    public PromptBuilder(PromptSettings settings) {
        StringBuilder system = new StringBuilder(settings.systemPrompt().strip());
        system.append("\n\nCategories:\n");
        for (Map.Entry<String, String> c : settings.categories().entrySet()) {
            system.append("- ").append(c.getKey()).append(": ").append(c.getValue()).append('\n');
        }
        system.append(
                "\nAnswer with one JSON object with exactly these fields: category (one of the"
                        + " categories above), priority (low, normal, high or urgent), sentiment"
                        + " (negative, neutral or positive), summary (one sentence), draft_reply"
                        + " (a reply to the customer), confidence (a number from 0 to 1).");
        if (!settings.fewShot().isEmpty()) {
            system.append("\n\nExamples of tickets and their category:\n");
            for (PromptSettings.FewShot e : settings.fewShot()) {
                system.append("- \"")
                        .append(e.text().replace('\n', ' '))
                        .append("\" -> ")
                        .append(e.category())
                        .append('\n');
            }
        }
        this.systemMessage = system.toString();
        this.answerSchema = schema(settings.categories().keySet());
    }

    /** The messages for the session's next ticket, given its retained history (oldest first). */
    public List<ChatMessage> messages(List<Turn> history, Ticket ticket) {
        List<ChatMessage> messages = new ArrayList<>(2 + 2 * history.size());
        messages.add(ChatMessage.system(systemMessage));
        for (Turn turn : history) {
            messages.add(ChatMessage.user(turn.ticketText()));
            messages.add(ChatMessage.assistant(turn.answerJson()));
        }
        messages.add(ChatMessage.user(withCustomer(ticketText(ticket), ticket)));
        return messages;
    }

    /** What the model is told after an unusable answer, for its one repair attempt. */
    public static String repairRequest(String problem) {
        return "Your previous answer could not be used: "
                + problem
                + ". Answer again with only the JSON object described in the instructions: every"
                + " field, valid JSON, no Markdown, and a summary and draft_reply short enough to"
                + " fit.";
    }

    /** The system message: the instructions, the categories, the answer format, any examples. */
    public String systemMessage() {
        return systemMessage;
    }

    public JsonNode answerSchema() {
        return answerSchema;
    }

    /** How a ticket appears in the conversation sent to the model. */
    public static String ticketText(Ticket ticket) {
        StringBuilder text = new StringBuilder("Ticket ").append(ticket.ticketId());
        if (ticket.channel() != null) {
            text.append(" via ").append(ticket.channel());
        }
        text.append('\n');
        if (ticket.subject() != null && !ticket.subject().isBlank()) {
            text.append("Subject: ").append(ticket.subject()).append('\n');
        }
        return text.append('\n').append(ticket.body()).toString();
    }

    /**
     * The current ticket with what the job knows about its customer, as header lines before the
     * body (earlier turns in the history do not repeat them).
     */
    static String withCustomer(String text, Ticket ticket) {
        CustomerContext c = ticket.customer();
        if (c == null) {
            return text;
        }
        StringBuilder lines = new StringBuilder();
        CustomerProfile p = c.profile();
        if (p == null) {
            lines.append("Customer: ")
                    .append(ticket.customerId())
                    .append(" (profile not available)\n");
        } else {
            lines.append("Customer: ")
                    .append(p.name() == null ? p.customerId() : p.name())
                    .append(" (tier ")
                    .append(orDash(p.tier()))
                    .append(", plan ")
                    .append(orDash(p.plan()))
                    .append(", language ")
                    .append(orDash(p.language()))
                    .append(")\n");
        }
        if (!c.recent().isEmpty()) {
            lines.append("Customer's recent tickets:");
            for (PastTicket t : c.recent()) {
                lines.append(' ')
                        .append(t.ticketId())
                        .append(" (")
                        .append(t.category())
                        .append(", ")
                        .append(t.priority())
                        .append(", ")
                        .append(Json.isoInstant(t.createdAt()), 0, 10)
                        .append(");");
            }
            lines.append('\n');
        }
        int blank = text.indexOf("\n\n");
        return blank < 0
                ? lines + text
                : text.substring(0, blank + 1) + lines + text.substring(blank + 1);
    }

    private static String orDash(String s) {
        return s == null || s.isBlank() ? "-" : s;
    }

    /** Strict-mode schema: every property required, no additional properties. */
    static ObjectNode schema(Iterable<String> categories) {
        ObjectNode schema = Json.object();
        schema.put("type", "object");
        schema.put("additionalProperties", false);
        ObjectNode props = schema.putObject("properties");
        enumProperty(props, "category", categories);
        enumProperty(props, "priority", TriageAnswer.PRIORITIES);
        enumProperty(props, "sentiment", TriageAnswer.SENTIMENTS);
        props.putObject("summary").put("type", "string");
        props.putObject("draft_reply").put("type", "string");
        props.putObject("confidence").put("type", "number");
        ArrayNode required = schema.putArray("required");
        props.fieldNames().forEachRemaining(required::add);
        return schema;
    }

    private static void enumProperty(ObjectNode props, String name, Iterable<String> values) {
        ObjectNode p = props.putObject(name);
        p.put("type", "string");
        ArrayNode e = p.putArray("enum");
        values.forEach(e::add);
    }
}
