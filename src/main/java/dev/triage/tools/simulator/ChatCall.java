package dev.triage.tools.simulator;

/**
 * One chat request as the faults see it.
 *
 * @param now when it is decided, epoch ms
 * @param draw one uniform draw in [0, 1) that the injected shares split between them
 * @param window the injected faults at that time
 * @param request the parsed body; null for the faults that come before it is read
 * @param authorization the Authorization header, or null
 */
record ChatCall(
        long now, double draw, FaultWindow window, ChatRequest request, String authorization) {

    ChatCall read(ChatRequest parsed) {
        return new ChatCall(now, draw, window, parsed, authorization);
    }
}
