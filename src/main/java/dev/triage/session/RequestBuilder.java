package dev.triage.session;

import dev.triage.config.GatewaySettings;
import dev.triage.config.PromptSettings;
import dev.triage.llm.ChatMessage;
import dev.triage.llm.IncidentCache;
import dev.triage.llm.TokenEstimate;
import dev.triage.llm.TriageAnswer;
import dev.triage.prompt.PromptBuilder;
import dev.triage.records.Ticket;
import dev.triage.session.OutcomePolicy.RepairNote;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a ticket's call says: the session's earlier turns, the ticket, the repair messages after an
 * unusable answer, and the token estimate the rate limiter takes; or no call at all, when the
 * incident cache already holds the answer to the same first message.
 */
final class RequestBuilder {

    private final PromptBuilder prompts;
    private final IncidentCache incidents;
    private final int maxOutputTokens;
    private final int historyChars;

    /** The builder for the job's prompt, with the incident cache when it is on. */
    static RequestBuilder of(PromptSettings prompt, GatewaySettings gateway, int historyChars) {
        IncidentCache incidents =
                gateway.incidentCache()
                        ? new IncidentCache(
                                gateway.incidentCacheWindow().toMillis(),
                                gateway.incidentCacheMaxEntries())
                        : null;
        return new RequestBuilder(
                new PromptBuilder(prompt), incidents, gateway.maxOutputTokens(), historyChars);
    }

    /**
     * @param incidents null when the incident cache is off
     * @param historyChars the session's history budget (session.history-chars)
     */
    RequestBuilder(
            PromptBuilder prompts, IncidentCache incidents, int maxOutputTokens, int historyChars) {
        this.prompts = prompts;
        this.incidents = incidents;
        this.maxOutputTokens = maxOutputTokens;
        this.historyChars = historyChars;
    }

    /**
     * The cached answer (and its model) for the ticket, or null. Only a session's first ticket on
     * its first try, not under repair: a later turn's answer depends on the conversation.
     */
    Map.Entry<TriageAnswer, String> cached(PendingTicket current, RepairNote repair, long now) {
        if (incidents == null || current.turn() != 1 || current.attempts() != 0 || repair != null) {
            return null;
        }
        return incidents.get(IncidentCache.key(current.ticket()), now);
    }

    /**
     * Keeps an answer for the same first message of other sessions, unless it names the customer.
     */
    void answered(
            PendingTicket current, boolean repaired, TriageAnswer answer, String model, long now) {
        if (incidents != null
                && current.turn() == 1
                && !repaired
                && !IncidentCache.namesCustomer(answer, current.ticket())) {
            incidents.put(IncidentCache.key(current.ticket()), answer, model, now);
        }
    }

    /** The messages of the call: history and ticket, then the unusable answer and its problem. */
    List<ChatMessage> messages(List<Turn> history, Ticket ticket, RepairNote repair) {
        List<ChatMessage> messages = new ArrayList<>(prompts.messages(history, ticket));
        if (repair != null) {
            messages.add(
                    ChatMessage.assistant(
                            repair.answer() == null ? "(no answer)" : repair.answer()));
            messages.add(ChatMessage.user(PromptBuilder.repairRequest(repair.problem())));
        }
        return messages;
    }

    /** About how many tokens the call will bill, output included (for the rate limiter). */
    int tokens(List<ChatMessage> messages) {
        return TokenEstimate.requestTokens(messages, maxOutputTokens);
    }

    JsonNode answerSchema() {
        return prompts.answerSchema();
    }

    /** The turn the answered ticket adds to its session's history. */
    Turn turn(PendingTicket current, TriageAnswer answer) {
        String text = PromptBuilder.historyText(current.ticket(), Math.max(200, historyChars / 2));
        return new Turn(current.turn(), current.ticket().ticketId(), text, answer.toJson());
    }
}
