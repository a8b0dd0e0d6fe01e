package dev.triage.tools.simulator;

import dev.triage.io.Json;
import dev.triage.prompt.PromptFormat;
import dev.triage.prompt.TicketBlock;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The local model's answers, by simple, documented text rules: category by keyword overlap with
 * each allowed category (built-in keywords for the default categories plus the words of each
 * category's description), priority and sentiment by word lists, an extractive summary, and a reply
 * template. Deterministic, so tests can predict it.
 */
public final class RuleBasedTriager {

    private static final Map<String, List<String>> KEYWORDS =
            Map.of(
                    "billing",
                    List.of(
                            "invoice",
                            "bill",
                            "charge",
                            "refund",
                            "payment",
                            "pay",
                            "price",
                            "subscription",
                            "credit card",
                            "receipt",
                            "fee",
                            "money"),
                    "technical",
                    List.of(
                            "error",
                            "bug",
                            "crash",
                            "broken",
                            "not working",
                            "doesn't work",
                            "outage",
                            "down",
                            "slow",
                            "fail",
                            "app",
                            "website",
                            "timeout"),
                    "account",
                    List.of(
                            "login",
                            "log in",
                            "password",
                            "account",
                            "sign in",
                            "username",
                            "profile",
                            "2fa",
                            "locked",
                            "email address"),
                    "shipping",
                    List.of(
                            "order",
                            "delivery",
                            "deliver",
                            "shipping",
                            "package",
                            "tracking",
                            "shipped",
                            "arrive",
                            "courier",
                            "parcel",
                            "return"));

    private static final List<String> URGENT =
            List.of(
                    "urgent",
                    "asap",
                    "immediately",
                    "emergency",
                    "outage",
                    "critical",
                    "right now");
    private static final List<String> HIGH =
            List.of(
                    "cannot",
                    "can't",
                    "unable",
                    "broken",
                    "angry",
                    "still",
                    "again",
                    "lost",
                    "third time",
                    "unacceptable");
    private static final List<String> LOW =
            List.of(
                    "question",
                    "wondering",
                    "curious",
                    "feedback",
                    "suggestion",
                    "how do i",
                    "just checking");
    private static final List<String> NEGATIVE =
            List.of(
                    "angry",
                    "terrible",
                    "awful",
                    "worst",
                    "frustrated",
                    "disappointed",
                    "unacceptable",
                    "annoyed",
                    "ridiculous",
                    "cannot",
                    "can't",
                    "broken",
                    "never",
                    "still",
                    "wrong",
                    "lost");
    private static final List<String> POSITIVE =
            List.of(
                    "thanks",
                    "thank you",
                    "great",
                    "love",
                    "awesome",
                    "appreciate",
                    "happy",
                    "excellent",
                    "perfect");

    private RuleBasedTriager() {}

    /**
     * Triages a ticket.
     *
     * @param allowed categories the answer may use (from the request's schema), in order
     * @param systemPrompt the request's system message; "- name: description" lines add keywords
     * @param ticket the ticket as the request's data block carries it
     * @param earlierTurns how many earlier turns the request carried
     */
    public static ObjectNode triage(
            List<String> allowed,
            String systemPrompt,
            TicketBlock.Contents ticket,
            int earlierTurns) {
        String body = bodyOf(ticket);
        String text = textOf(ticket).toLowerCase(Locale.ROOT);
        Map<String, String> descriptions = new LinkedHashMap<>();
        for (PromptFormat.Category c : PromptFormat.categories(systemPrompt)) {
            if (!c.description().isEmpty()) {
                descriptions.put(c.name(), c.description().toLowerCase(Locale.ROOT));
            }
        }

        String best = null;
        int bestScore = 0;
        int total = 0;
        for (String category : allowed) {
            List<String> words = new ArrayList<>(KEYWORDS.getOrDefault(category, List.of()));
            words.add(category.toLowerCase(Locale.ROOT));
            for (String w : descriptions.getOrDefault(category, "").split("[^a-z0-9']+")) {
                if (w.length() > 3) {
                    words.add(w);
                }
            }
            int score = count(text, words);
            total += score;
            if (score > bestScore) {
                best = category;
                bestScore = score;
            }
        }
        double confidence;
        if (best == null) {
            best = allowed.contains("other") ? "other" : allowed.get(0);
            confidence = 0.3;
        } else {
            confidence = Math.min(0.95, 0.5 + 0.45 * bestScore / Math.max(1, total));
        }

        String priority = priorityByRules(text);
        String sentiment = sentimentByRules(text);

        ObjectNode answer = Json.object();
        answer.put("category", best);
        answer.put("priority", priority);
        answer.put("sentiment", sentiment);
        answer.put("summary", firstSentence(body));
        answer.put("draft_reply", reply(best, earlierTurns));
        answer.put("confidence", Math.round(confidence * 100) / 100.0);
        return answer;
    }

    /** Priority by word lists: urgent, high and low words, else normal. Lower-case text. */
    static String priorityByRules(String text) {
        return count(text, URGENT) > 0
                ? "urgent"
                : count(text, HIGH) > 0 ? "high" : count(text, LOW) > 0 ? "low" : "normal";
    }

    /** Sentiment by counting negative and positive words. Lower-case text. */
    static String sentimentByRules(String text) {
        int neg = count(text, NEGATIVE);
        int pos = count(text, POSITIVE);
        return neg > pos ? "negative" : pos > neg ? "positive" : "neutral";
    }

    /** The body of a block's ticket (an old-format earlier text as a whole). */
    static String bodyOf(TicketBlock.Contents ticket) {
        if (ticket.body() != null) {
            return ticket.body();
        }
        return ticket.text() == null ? "" : ticket.text();
    }

    /** The words the rules read: the subject, if any, and the body. */
    static String textOf(TicketBlock.Contents ticket) {
        String subject = ticket.subject();
        return subject == null || subject.isBlank()
                ? bodyOf(ticket)
                : subject + "\n" + bodyOf(ticket);
    }

    static String firstSentence(String body) {
        String s = body.strip().replaceAll("\\s+", " ");
        Matcher end = Pattern.compile("[.!?](\\s|$)").matcher(s);
        if (end.find()) {
            s = s.substring(0, end.start() + 1);
        }
        return s.length() > 200 ? s.substring(0, 197) + "..." : s;
    }

    private static String reply(String category, int earlierTurns) {
        String opening =
                earlierTurns > 0
                        ? "Thanks for following up on your earlier message."
                        : "Thanks for contacting us.";
        String body =
                switch (category) {
                    case "billing" ->
                            "Our billing team will review the charge and get back to you"
                                    + " within one business day.";
                    case "technical" ->
                            "Our engineers are looking into the problem; we will update"
                                    + " you as soon as it is fixed.";
                    case "account" ->
                            "For your security, please use the password reset link; if"
                                    + " that fails, we will verify your identity and restore access.";
                    case "shipping" ->
                            "We are checking the status of your order with the carrier"
                                    + " and will send you an update shortly.";
                    default -> "A member of our team will look into your request and reply soon.";
                };
        return opening + " " + body;
    }

    private static int count(String text, List<String> words) {
        int n = 0;
        for (String w : words) {
            int from = 0;
            while ((from = text.indexOf(w, from)) >= 0) {
                boolean startOk = from == 0 || !Character.isLetterOrDigit(text.charAt(from - 1));
                int end = from + w.length();
                if (startOk) {
                    n++;
                }
                from = end;
            }
        }
        return n;
    }
}
