package dev.triage.session;

import dev.triage.prompt.PastTurn;

/** One answered turn of a conversation, as it is replayed to the model as history. */
public record Turn(int turn, String ticketId, String ticketText, String answerJson)
        implements PastTurn {

    int chars() {
        return ticketText.length() + answerJson.length();
    }
}
