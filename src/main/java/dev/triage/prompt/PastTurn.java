package dev.triage.prompt;

/**
 * One answered turn as the prompt replays it: the ticket's text and the answer the model gave. The
 * session's state type implements it, so the prompt does not depend on how sessions are stored.
 */
public interface PastTurn {

    String ticketText();

    String answerJson();
}
