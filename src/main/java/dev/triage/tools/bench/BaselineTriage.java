package dev.triage.tools.bench;

import dev.triage.config.LlmSettings;
import dev.triage.config.PromptSettings;
import dev.triage.llm.LlmClient;
import dev.triage.llm.LlmReply;
import dev.triage.llm.OpenAiChatClient;
import dev.triage.llm.TriageAnswer;
import dev.triage.llm.TriageAnswerParser;
import dev.triage.prompt.PromptBuilder;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;

import java.io.Serializable;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the baselines share with each other and with this job: the same HTTP client, prompt and
 * answer parser, so the benchmark compares the pipelines around the call, not the call. One ticket
 * is one request without history (the baselines keep no state per session).
 */
final class BaselineTriage implements Serializable, AutoCloseable {

    private static final long serialVersionUID = 1L;

    private final LlmSettings endpoint;
    private final PromptSettings prompt;
    private transient LlmClient client;
    private transient PromptBuilder prompts;
    private transient TriageAnswerParser parser;

    BaselineTriage(LlmSettings endpoint, PromptSettings prompt) {
        this.endpoint = endpoint;
        this.prompt = prompt;
    }

    /** Creates the client; call once per instance, where it runs (a task or a worker). */
    BaselineTriage open() {
        client = OpenAiChatClient.FACTORY.create(endpoint);
        prompts = new PromptBuilder(prompt);
        parser = new TriageAnswerParser(prompt.categories().keySet());
        return this;
    }

    /** One call; fails with the client's exception or an invalid-answer exception. */
    CompletableFuture<TriageResult> triage(Ticket ticket, int attempt) {
        long start = System.currentTimeMillis();
        return client.complete(prompts.messages(List.of(), ticket), prompts.answerSchema())
                .thenApply(reply -> result(ticket, reply, attempt, start));
    }

    private TriageResult result(Ticket ticket, LlmReply reply, int attempt, long start) {
        TriageAnswer answer;
        try {
            answer = parser.parse(reply.content());
        } catch (TriageAnswerParser.InvalidAnswerException e) {
            throw new IllegalStateException("invalid answer: " + e.getMessage(), e);
        }
        long now = System.currentTimeMillis();
        return new TriageResult(
                ticket.ticketId(),
                ticket.sessionId(),
                ticket.customerId(),
                0,
                answer.category(),
                answer.priority(),
                answer.sentiment(),
                answer.summary(),
                answer.draftReply(),
                answer.confidence(),
                reply.model(),
                attempt,
                reply.promptTokens(),
                reply.completionTokens(),
                ticket.createdAt(),
                now,
                now - start,
                false);
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
        }
    }
}
