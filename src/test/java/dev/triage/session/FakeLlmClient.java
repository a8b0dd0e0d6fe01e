package dev.triage.session;

import dev.triage.config.LlmSettings;
import dev.triage.llm.ChatMessage;
import dev.triage.llm.LlmClient;
import dev.triage.llm.LlmClientFactory;
import dev.triage.llm.LlmException;
import dev.triage.llm.LlmReply;
import dev.triage.llm.TriageAnswer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** An in-memory model whose calls the test completes by hand; records every request. */
final class FakeLlmClient implements LlmClient {

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

    /** Once set, the answer every open call and every later call gets at once. */
    private volatile TriageAnswer answerEveryCall;

    /**
     * The fakes of one harness, one per endpoint, handed to the operator by this factory. The fakes
     * are transient: a harness creates its operator from the factory object it is given, in this
     * JVM, so the operator and the test share them; a serialized copy would have none.
     */
    static final class Endpoints implements LlmClientFactory {
        private final transient FakeLlmClient primary = new FakeLlmClient();
        private final transient FakeLlmClient fallback = new FakeLlmClient();

        FakeLlmClient primary() {
            return primary;
        }

        FakeLlmClient fallback() {
            return fallback;
        }

        @Override
        public LlmClient create(LlmSettings endpoint) {
            FakeLlmClient fake = endpoint.name().equals("fallback") ? fallback : primary;
            if (fake == null) {
                throw new IllegalStateException("a deserialized copy holds no fakes");
            }
            return fake;
        }
    }

    /**
     * Answers every call still open, and from now on every new call as it is made: for closing a
     * harness, whose finish() waits for the calls in flight.
     */
    void answerEveryCall(TriageAnswer answer) {
        answerEveryCall = answer;
        calls.forEach(c -> c.answer(answer));
    }

    @Override
    public CompletableFuture<LlmReply> complete(List<ChatMessage> messages, JsonNode answerSchema) {
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        CompletableFuture<LlmReply> future = new CompletableFuture<>();
        Call call =
                new Call(
                        messages,
                        future,
                        inFlight,
                        new java.util.concurrent.atomic.AtomicBoolean());
        calls.add(call);
        TriageAnswer answer = answerEveryCall;
        if (answer != null) {
            call.answer(answer);
        }
        return future;
    }

    @Override
    public void close() {}
}
