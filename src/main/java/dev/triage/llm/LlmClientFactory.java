package dev.triage.llm;

import java.io.Serializable;

/** Creates the client on the TaskManager, when the operator opens. */
@FunctionalInterface
public interface LlmClientFactory extends Serializable {

    LlmClient create();
}
