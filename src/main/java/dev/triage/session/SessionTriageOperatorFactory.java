package dev.triage.session;

import dev.triage.config.GatewaySettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.SessionSettings;
import dev.triage.llm.LlmClientFactory;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;

import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/** Creates {@link SessionTriageOperator} with the task's mailbox executor. */
public class SessionTriageOperatorFactory extends AbstractStreamOperatorFactory<TriageResult>
        implements OneInputStreamOperatorFactory<Ticket, TriageResult> {

    private static final long serialVersionUID = 1L;

    private final SessionSettings settings;
    private final GatewaySettings gateway;
    private final PromptSettings prompts;
    private final PriorityRules priorityRules;
    private final LlmClientFactory clientFactory;

    public SessionTriageOperatorFactory(
            SessionSettings settings,
            GatewaySettings gateway,
            PromptSettings prompts,
            LlmClientFactory clientFactory) {
        this(settings, gateway, prompts, PriorityRules.NONE, clientFactory);
    }

    public SessionTriageOperatorFactory(
            SessionSettings settings,
            GatewaySettings gateway,
            PromptSettings prompts,
            PriorityRules priorityRules,
            LlmClientFactory clientFactory) {
        this.priorityRules = priorityRules;
        this.settings = settings;
        this.gateway = gateway;
        this.prompts = prompts;
        this.clientFactory = clientFactory;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<TriageResult>> T createStreamOperator(
            StreamOperatorParameters<TriageResult> parameters) {
        return (T)
                new SessionTriageOperator(
                        parameters, settings, gateway, prompts, priorityRules, clientFactory);
    }

    @Override
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return SessionTriageOperator.class;
    }
}
