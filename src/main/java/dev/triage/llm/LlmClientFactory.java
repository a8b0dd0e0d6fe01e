package dev.triage.llm;

import dev.triage.config.LlmSettings;

import java.io.Serializable;

/** Creates the client of one endpoint on the TaskManager, when the operator opens. */
@FunctionalInterface
public interface LlmClientFactory extends Serializable {

    LlmClient create(LlmSettings endpoint);
}
