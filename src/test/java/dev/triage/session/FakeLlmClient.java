package dev.triage.session;

import dev.triage.llm.ChatMessage;
import dev.triage.llm.LlmClient;
import dev.triage.llm.LlmClientFactory;
import dev.triage.llm.LlmException;
import dev.triage.llm.LlmReply;
import dev.triage.llm.TriageAnswer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** An in-memory model whose calls the test completes by hand; records every request. */
final class FakeLlmClient implements LlmClient {

    private static final Map<String, FakeLlmClient> INSTANCES = new ConcurrentHashMap<>();

    /** One recorded call. */
    record Call(
            List<ChatMessage> messages,
            CompletableFuture<LlmReply> future,
            AtomicInteger clientInFlight,
            java.util.concurrent.atomic.AtomicBoolean settled) {
        String lastUserMessage() {
            return messages.get(messages.size() - 1).content();
        }

        long assistantMessages() {
            return messages.stream().filter(m -> m.role().equals("assistant")).count();
        }

        String allText() {
            StringBuilder sb = new StringBuilder();
            messages.forEach(m -> sb.append(m.content()).append('\n'));
            return sb.toString();
        }

        void answer(TriageAnswer answer) {
            answerRaw(answer.toJson());
        }

        void answerRaw(String content) {
            // Count the call as finished before the operator can see the completion.
            if (settled.compareAndSet(false, true)) {
                clientInFlight.decrementAndGet();
                future.complete(new LlmReply(content, "stop", null, "fake", 10, 5));
            }
        }

        void reply(LlmReply reply) {
            if (settled.compareAndSet(false, true)) {
                clientInFlight.decrementAndGet();
                future.complete(reply);
            }
        }

        void fail(int status, boolean retriable) {
            if (settled.compareAndSet(false, true)) {
                clientInFlight.decrementAndGet();
                future.completeExceptionally(
                        new LlmException(
                                LlmException.Kind.HTTP_STATUS,
                                status,
                                retriable,
                                "HTTP " + status,
                                "{}"));
            }
        }
    }

    final List<Call> calls = new CopyOnWriteArrayList<>();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();

    /** One fake per endpoint: {@code id} for the primary, {@code id + "/fallback"} for it. */
    static LlmClientFactory factory(String id) {
        INSTANCES.put(id, new FakeLlmClient());
        INSTANCES.put(id + "/fallback", new FakeLlmClient());
        return endpoint ->
                INSTANCES.get(endpoint.name().equals("fallback") ? id + "/fallback" : id);
    }

    static FakeLlmClient get(String id) {
        return INSTANCES.get(id);
    }

    @Override
    public CompletableFuture<LlmReply> complete(List<ChatMessage> messages, JsonNode answerSchema) {
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        CompletableFuture<LlmReply> future = new CompletableFuture<>();
        calls.add(
                new Call(
                        messages,
                        future,
                        inFlight,
                        new java.util.concurrent.atomic.AtomicBoolean()));
        return future;
    }

    @Override
    public void close() {}
}
