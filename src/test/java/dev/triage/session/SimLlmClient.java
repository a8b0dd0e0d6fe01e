package dev.triage.session;

import dev.triage.config.LlmSettings;
import dev.triage.llm.ChatMessage;
import dev.triage.llm.LlmClient;
import dev.triage.llm.LlmClientFactory;
import dev.triage.llm.LlmReply;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The simulated provider's client for one subtask incarnation: it only records each call; the
 * simulation completes the calls, in any order, on the test thread.
 */
final class SimLlmClient implements LlmClient {

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

    /** A factory for one subtask incarnation, handing its operator one new client. */
    static LlmClientFactory factory(int subtask, Listener listener) {
        return new Factory(new SimLlmClient(subtask, listener));
    }

    /**
     * Holds its client in a transient field: a harness creates its operator from the factory object
     * it is given, in this JVM, so the world and the operator share the client; a serialized copy
     * would have none.
     */
    private static final class Factory implements LlmClientFactory {
        private final transient SimLlmClient client;

        Factory(SimLlmClient client) {
            this.client = client;
        }

        @Override
        public LlmClient create(LlmSettings endpoint) {
            if (client == null) {
                throw new IllegalStateException("a deserialized copy holds no client");
            }
            return client;
        }
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
