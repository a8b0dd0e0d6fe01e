package dev.triage.llm;

/** Which of the job's model endpoints a call goes to: the primary, or the configured fallback. */
public enum Endpoint {
    PRIMARY,
    FALLBACK;

    /** The endpoint at {@code index} of {@code GatewaySettings.endpoints()}. */
    static Endpoint at(int index) {
        return values()[index];
    }
}
