package dev.triage.session;

import dev.triage.llm.ChatMessage;
import dev.triage.llm.LlmClient;
import dev.triage.llm.LlmClientFactory;
import dev.triage.llm.LlmReply;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The simulated provider's client for one subtask incarnation: it only records each call; the
 * simulation completes the calls, in any order, on the test thread.
 */
final class SimLlmClient implements LlmClient {

    private static final Map<String, SimLlmClient> REGISTRY = new ConcurrentHashMap<>();

    /** One call the operator made. */
    static final class Call {
        final int serial;
        final int subtask;
        final List<ChatMessage> messages;
        final CompletableFuture<LlmReply> future;
        final long sentAt;
        boolean done;

        Call(
                int serial,
                int subtask,
                List<ChatMessage> messages,
                CompletableFuture<LlmReply> future,
                long sentAt) {
            this.serial = serial;
            this.subtask = subtask;
            this.messages = List.copyOf(messages);
            this.future = future;
            this.sentAt = sentAt;
        }
    }

    /** The world's view of the call being made: serial number and time. */
    interface Listener {
        Call onCall(int subtask, List<ChatMessage> messages, CompletableFuture<LlmReply> f);
    }

    private final int subtask;
    private final Listener listener;
    private volatile boolean closed;

    private SimLlmClient(int subtask, Listener listener) {
        this.subtask = subtask;
        this.listener = listener;
    }

    /** A factory for one subtask incarnation; {@link #release} forgets it. */
    static LlmClientFactory factory(String key, int subtask, Listener listener) {
        REGISTRY.put(key, new SimLlmClient(subtask, listener));
        return endpoint -> REGISTRY.get(key);
    }

    static void release(String key) {
        REGISTRY.remove(key);
    }

    @Override
    public CompletableFuture<LlmReply> complete(List<ChatMessage> messages, JsonNode answerSchema) {
        CompletableFuture<LlmReply> f = new CompletableFuture<>();
        if (closed) {
            return f; // a closed client never answers
        }
        listener.onCall(subtask, messages, f);
        return f;
    }

    @Override
    public void close() {
        closed = true;
    }
}
