package dev.triage.prompt;

import dev.triage.llm.ChatMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The prompt's format, declared once: what {@link PromptBuilder} writes and what a reader of a chat
 * request (the provider simulator) may rely on. A request is a system message, then earlier turns
 * as user/assistant pairs, then the ticket as a user message that is one {@link TicketBlock}; a
 * repair attempt adds the bad answer and a user message saying what was wrong. The system message
 * lists the categories as lines {@code - name: description}. Nothing a customer writes can fake
 * either marker: tickets reach the prompt only inside a block, whose escapes allow no line break
 * and no angle bracket.
 */
public final class PromptFormat {

    /** What comes before the category lines in the system message. */
    static final String CATEGORIES_HEADING = "\n\nCategories:\n";

    /** A category line, {@code - name: description}; a reader takes every one, in order. */
    private static final Pattern CATEGORY_LINE = Pattern.compile("(?m)^- ([A-Za-z0-9_-]+): (.*)$");

    private PromptFormat() {}

    /** One line of the category list; the description may be empty. */
    public record Category(String name, String description) {}

    /**
     * What a reader needs of a request: its system message (null if none), the ticket it asks
     * about, the user message that carries it, and how many earlier turns the conversation had (a
     * repair's bad answer is not one).
     */
    public record Conversation(
            String system, TicketBlock.Contents ticket, String ticketMessage, int earlierTurns) {}

    /** Appends the category line for {@code name}. */
    static StringBuilder appendCategory(StringBuilder out, String name, String description) {
        return out.append("- ").append(name).append(": ").append(description).append('\n');
    }

    /** Every category line of a system message, in order (the same name may come twice). */
    public static List<Category> categories(String systemMessage) {
        List<Category> out = new ArrayList<>();
        if (systemMessage == null) {
            return out;
        }
        Matcher m = CATEGORY_LINE.matcher(systemMessage);
        while (m.find()) {
            out.add(new Category(m.group(1), m.group(2)));
        }
        return out;
    }

    /**
     * Reads a request's messages. The ticket is the last user message that is a block (its JSON is
     * read, never the text around it); when a later user message follows it, the request is a
     * repair and is answered for that ticket. Another client's plain prompt: its last user message
     * is the ticket's text as a whole.
     *
     * @throws IllegalArgumentException for a role other than system, user and assistant, or no user
     *     message
     */
    public static Conversation read(List<ChatMessage> messages) {
        String lastUser = null;
        String system = null;
        int assistantTurns = 0;
        List<String> users = new ArrayList<>();
        for (ChatMessage m : messages) {
            switch (m.role()) {
                case "system" -> system = m.content();
                case "user" -> {
                    lastUser = m.content();
                    users.add(lastUser);
                }
                case "assistant" -> assistantTurns++;
                default -> throw new IllegalArgumentException("unknown role '" + m.role() + "'");
            }
        }
        // Read from the end: the history's blocks need no parsing.
        String lastTicket = null;
        TicketBlock.Contents ticket = null;
        for (int i = users.size() - 1; i >= 0 && ticket == null; i--) {
            ticket = TicketBlock.read(users.get(i));
            if (ticket != null) {
                lastTicket = users.get(i);
            }
        }
        if (lastTicket != null && !lastTicket.equals(lastUser)) {
            // A repair: the bad answer was not a turn of the conversation.
            lastUser = lastTicket;
            assistantTurns--;
        }
        if (lastUser == null) {
            throw new IllegalArgumentException("no user message");
        }
        if (ticket == null) {
            ticket = TicketBlock.Contents.legacy(lastUser);
        }
        return new Conversation(system, ticket, lastUser, assistantTurns);
    }
}
