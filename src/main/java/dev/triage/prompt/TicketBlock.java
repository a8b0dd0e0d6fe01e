package dev.triage.prompt;

import dev.triage.io.Json;
import dev.triage.records.CustomerContext;
import dev.triage.records.CustomerProfile;
import dev.triage.records.PastTicket;
import dev.triage.records.RecordLimits;
import dev.triage.records.Ticket;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The ticket as data in the prompt: one JSON object between a line {@code <ticket>} and a line
 * {@code </ticket>}, the whole user message. The JSON is one line in which {@code <}, {@code >},
 * {@code &}, every control, format and line-separator character, lookalike angle brackets and every
 * surrogate are written as {@code \\uXXXX}, so no field text can end the block, start a new line or
 * hide characters ({@link BlockEscapes}); every field is cut to a bound. Both the job (writing) and
 * the provider simulator (reading, through {@link PromptFormat}) use this class.
 */
public final class TicketBlock {

    public static final String OPEN = "<ticket>";
    public static final String CLOSE = "</ticket>";

    /** Bound of ids, channel and the customer's fields (the parsers' own bound). */
    public static final int MAX_ID_CHARS = 256;

    /** Bound of the subject (the ticket parser's own bound). */
    public static final int MAX_SUBJECT_CHARS = 1024;

    /** Bound of the body and of a replayed earlier text: what a record can carry at all. */
    public static final int MAX_BODY_CHARS = RecordLimits.MAX_IN_FLIGHT_PAYLOAD_BYTES;

    /** At most this many of the customer's recent tickets. */
    public static final int MAX_RECENT_TICKETS = 50;

    /**
     * What a block holds. {@code text} is set only for an earlier turn kept in state in the old
     * free-text format; {@code truncated} says that the body was cut to fit the history.
     */
    public record Contents(
            String ticketId,
            String channel,
            String subject,
            String body,
            Customer customer,
            String text,
            boolean truncated) {

        /** An earlier turn's text in the old format, replayed as data. */
        public static Contents legacy(String text) {
            return new Contents(null, null, null, null, null, cut(text, MAX_BODY_CHARS), false);
        }
    }

    /** The customer as the job knows them; {@code profileAvailable} false: no profile yet. */
    public record Customer(
            String customerId,
            boolean profileAvailable,
            String name,
            String tier,
            String plan,
            String language,
            List<Recent> recentTickets) {

        public Customer {
            recentTickets = recentTickets == null ? List.of() : List.copyOf(recentTickets);
        }
    }

    /** One of the customer's recent tickets; {@code date} is {@code yyyy-mm-dd}. */
    public record Recent(String ticketId, String category, String priority, String date) {}

    private TicketBlock() {}

    /** The block for a ticket, with its customer context when {@code withCustomer}. */
    public static String of(Ticket ticket, boolean withCustomer) {
        return write(contents(ticket, withCustomer));
    }

    /**
     * The block for a ticket without its customer, for the session's history: the body is cut (and
     * {@code truncated} set) so that the block is at most {@code maxChars} long where the other
     * fields leave room.
     */
    public static String forHistory(Ticket ticket, int maxChars) {
        Contents c = contents(ticket, false);
        String whole = write(c);
        if (whole.length() <= maxChars) {
            return whole;
        }
        String body = c.body() == null ? "" : c.body();
        int lo = 0;
        int hi = body.length();
        String best = write(withBody(c, ""));
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            String attempt = write(withBody(c, cut(body, mid)));
            if (attempt.length() <= maxChars) {
                lo = mid;
                best = attempt;
            } else {
                hi = mid - 1;
            }
        }
        return best;
    }

    private static Contents withBody(Contents c, String body) {
        return new Contents(c.ticketId(), c.channel(), c.subject(), body, null, null, true);
    }

    /** The fields of a ticket as they go into a block, each cut to its bound. */
    public static Contents contents(Ticket t, boolean withCustomer) {
        Customer customer = null;
        CustomerContext c = withCustomer ? t.customer() : null;
        if (c != null) {
            CustomerProfile p = c.profile();
            List<Recent> recent = new ArrayList<>();
            List<PastTicket> past = c.recent();
            for (PastTicket r :
                    past.subList(Math.max(0, past.size() - MAX_RECENT_TICKETS), past.size())) {
                recent.add(
                        new Recent(
                                id(r.ticketId()),
                                id(r.category()),
                                id(r.priority()),
                                Json.isoInstant(r.createdAt()).substring(0, 10)));
            }
            customer =
                    new Customer(
                            id(t.customerId()),
                            p != null,
                            p == null ? null : id(p.name()),
                            p == null ? null : id(p.tier()),
                            p == null ? null : id(p.plan()),
                            p == null ? null : id(p.language()),
                            recent);
        }
        return new Contents(
                id(t.ticketId()),
                id(t.channel()),
                cut(t.subject(), MAX_SUBJECT_CHARS),
                cut(t.body() == null ? "" : t.body(), MAX_BODY_CHARS),
                customer,
                null,
                false);
    }

    /** The whole user message for {@code c}. */
    public static String write(Contents c) {
        ObjectNode n = Json.object();
        putIfSet(n, "ticket_id", c.ticketId());
        putIfSet(n, "channel", c.channel());
        putIfSet(n, "subject", c.subject());
        putIfSet(n, "body", c.body());
        putIfSet(n, "text", c.text());
        if (c.truncated()) {
            n.put("truncated", true);
        }
        Customer k = c.customer();
        if (k != null) {
            ObjectNode cn = n.putObject("customer");
            putIfSet(cn, "customer_id", k.customerId());
            cn.put("profile_available", k.profileAvailable());
            putIfSet(cn, "name", k.name());
            putIfSet(cn, "tier", k.tier());
            putIfSet(cn, "plan", k.plan());
            putIfSet(cn, "language", k.language());
            if (!k.recentTickets().isEmpty()) {
                ArrayNode recent = cn.putArray("recent_tickets");
                for (Recent r : k.recentTickets()) {
                    ObjectNode rn = recent.addObject();
                    putIfSet(rn, "ticket_id", r.ticketId());
                    putIfSet(rn, "category", r.category());
                    putIfSet(rn, "priority", r.priority());
                    putIfSet(rn, "date", r.date());
                }
            }
        }
        return OPEN + "\n" + BlockEscapes.escapedJson(n) + "\n" + CLOSE;
    }

    /**
     * True when {@code message} is a block as {@link #write} makes them: the markers on their own
     * lines around one line with no character the block's escapes would write as {@code \\uXXXX}
     * (so no markup, no line break, nothing invisible). Such a block needs no rewriting to be
     * replayed: nothing in it can end it. Checks characters only; a cheap test before {@link
     * #read}.
     */
    public static boolean isWrittenBlock(String message) {
        if (message == null
                || message.length() < OPEN.length() + CLOSE.length() + 2
                || !message.startsWith(OPEN + "\n")
                || !message.endsWith("\n" + CLOSE)) {
            return false;
        }
        String json = message.substring(OPEN.length() + 1, message.length() - CLOSE.length() - 1);
        return BlockEscapes.hasNothingToEscape(json) && BlockEscapes.isJsonObject(json);
    }

    /** True when {@code message} is exactly one well-formed block. */
    public static boolean isBlock(String message) {
        return read(message) != null;
    }

    /** The contents of a message that is exactly one block, or null. */
    public static Contents read(String message) {
        if (message == null
                || !message.startsWith(OPEN + "\n")
                || !message.endsWith("\n" + CLOSE)
                || message.length() < OPEN.length() + CLOSE.length() + 2) {
            return null;
        }
        String json = message.substring(OPEN.length() + 1, message.length() - CLOSE.length() - 1);
        if (json.indexOf('\n') >= 0 || json.indexOf('<') >= 0 || json.indexOf('>') >= 0) {
            return null;
        }
        JsonNode n;
        try {
            n = Json.STRICT.readTree(json);
        } catch (IOException e) {
            return null;
        }
        if (n == null || !n.isObject()) {
            return null;
        }
        Customer customer = null;
        JsonNode cn = n.get("customer");
        if (cn != null && cn.isObject()) {
            List<Recent> recent = new ArrayList<>();
            for (JsonNode r : cn.path("recent_tickets")) {
                recent.add(
                        new Recent(
                                text(r, "ticket_id"),
                                text(r, "category"),
                                text(r, "priority"),
                                text(r, "date")));
            }
            customer =
                    new Customer(
                            text(cn, "customer_id"),
                            cn.path("profile_available").asBoolean(false),
                            text(cn, "name"),
                            text(cn, "tier"),
                            text(cn, "plan"),
                            text(cn, "language"),
                            recent);
        }
        return new Contents(
                text(n, "ticket_id"),
                text(n, "channel"),
                text(n, "subject"),
                text(n, "body"),
                customer,
                text(n, "text"),
                n.path("truncated").asBoolean(false));
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || !v.isTextual() ? null : v.asText();
    }

    private static void putIfSet(ObjectNode n, String field, String value) {
        if (value != null) {
            n.put(field, value);
        }
    }

    private static String id(String s) {
        return cut(s, MAX_ID_CHARS);
    }

    /** At most {@code max} chars, never splitting a surrogate pair. */
    static String cut(String s, int max) {
        if (s == null || s.length() <= max) {
            return s;
        }
        int end = max;
        if (end > 0 && Character.isHighSurrogate(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }
}
