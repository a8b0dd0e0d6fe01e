package dev.triage.session;

/** One answered turn of a conversation, as it is replayed to the model as history. */
public record Turn(int turn, String ticketId, String ticketText, String answerJson) {

    int chars() {
        return ticketText.length() + answerJson.length();
    }
}
