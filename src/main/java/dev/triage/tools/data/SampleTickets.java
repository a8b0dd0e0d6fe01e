package dev.triage.tools.data;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Generates realistic sample tickets (written for this project) spread over sessions, each session
 * a short conversation: an opening ticket and follow-ups.
 */
public final class SampleTickets {

    private static final String[][] OPENINGS = {
        {
            "Charged twice",
            "I was charged twice for my subscription this month. Please refund the duplicate payment."
        },
        {"Invoice missing", "I can't find the invoice for my last order. Could you send it to me?"},
        {
            "Refund status",
            "I returned the item two weeks ago and still have not received my refund."
        },
        {
            "App crashes",
            "The app crashes every time I open the settings page. This is really frustrating."
        },
        {"Website down", "Your website is down, I get an error 500 on checkout. This is urgent!"},
        {
            "Slow dashboard",
            "The dashboard has been very slow since yesterday, pages take a minute to load."
        },
        {"Cannot log in", "I cannot log in to my account, the password reset email never arrives."},
        {"Change email address", "How do I change the email address on my profile?"},
        {
            "Account locked",
            "My account got locked after too many login attempts. Please unlock it asap."
        },
        {
            "Where is my order",
            "My order was supposed to arrive on Monday but the tracking has not changed."
        },
        {
            "Wrong item delivered",
            "The package I received contains the wrong item. I ordered a blue one."
        },
        {
            "Delivery address",
            "Can I still change the delivery address for an order that has shipped?"
        },
        {"Feature question", "Just a question: is there a way to export my data as CSV?"},
        {"Great service", "Thank you for the quick help last week, the new plan works great."},
    };

    private static final String[] FOLLOW_UPS = {
        "Any update on this? It has been two days.",
        "I tried what you suggested but it still does not work.",
        "Thanks, that solved it!",
        "This is the third time I am writing about this. Unacceptable.",
        "One more thing: can you also check my last invoice?",
        "Could you please escalate this? I need it fixed today.",
    };

    private SampleTickets() {}

    /**
     * {@code count} tickets over {@code sessions} sessions, interleaved, deterministic per seed.
     */
    public static List<String> generate(int count, int sessions, long seed) {
        return generate(count, sessions, seed, "");
    }

    /** As {@link #generate(int, int, long)}, with {@code idPrefix} before every id. */
    public static List<String> generate(int count, int sessions, long seed, String idPrefix) {
        return generate(count, sessions, seed, idPrefix, 0.0);
    }

    /**
     * As {@link #generate(int, int, long, String)}, with a share {@code hotShare} of all tickets in
     * the first session (a "hot" session, e.g. a bot or an escalating customer).
     */
    public static List<String> generate(
            int count, int sessions, long seed, String idPrefix, double hotShare) {
        Random random = new Random(seed);
        int[] turns = new int[sessions];
        int[] opening = new int[sessions];
        for (int s = 0; s < sessions; s++) {
            opening[s] = random.nextInt(OPENINGS.length);
        }
        List<String> out = new ArrayList<>(count);
        long now = System.currentTimeMillis();
        for (int i = 0; i < count; i++) {
            int s = random.nextDouble() < hotShare ? 0 : random.nextInt(sessions);
            int turn = ++turns[s];
            String sessionId = idPrefix + String.format("S-%05d", s + 1);
            ObjectNode t = Json.object();
            t.put("ticket_id", sessionId + "-T" + turn);
            t.put("session_id", sessionId);
            t.put("customer_id", String.format("C-%04d", (s * 7919) % 5000));
            t.put("channel", random.nextBoolean() ? "email" : "chat");
            if (turn == 1) {
                t.put("subject", OPENINGS[opening[s]][0]);
                t.put("body", OPENINGS[opening[s]][1]);
            } else {
                t.put("subject", "Re: " + OPENINGS[opening[s]][0]);
                t.put("body", FOLLOW_UPS[random.nextInt(FOLLOW_UPS.length)]);
            }
            t.put("created_at", Instant.ofEpochMilli(now + i).toString());
            out.add(t.toString());
        }
        return out;
    }

    private static final String[] NAMES = {
        "Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Linus", "Frances", "Dennis"
    };
    private static final String[] TIERS = {"bronze", "silver", "silver", "gold", "platinum"};
    private static final String[] PLANS = {"free", "basic", "pro", "business"};
    private static final String[] LANGUAGES = {"en", "en", "de", "fr", "es"};

    /**
     * Profiles (customer_id, JSON) for the customers of the generated sessions; one customer in ten
     * has none, so that the enrichment's missing-profile policy shows.
     */
    public static List<Map.Entry<String, String>> profiles(int sessions, long seed) {
        Random random = new Random(seed);
        List<Map.Entry<String, String>> out = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int s = 0; s < sessions; s++) {
            String id = String.format("C-%04d", (s * 7919) % 5000);
            if (!seen.add(id) || Math.floorMod(id.hashCode(), 10) == 0) {
                continue;
            }
            ObjectNode p = Json.object();
            p.put("customer_id", id);
            p.put("name", NAMES[random.nextInt(NAMES.length)] + " " + id.substring(2));
            p.put("tier", TIERS[random.nextInt(TIERS.length)]);
            p.put("plan", PLANS[random.nextInt(PLANS.length)]);
            p.put("language", LANGUAGES[random.nextInt(LANGUAGES.length)]);
            out.add(Map.entry(id, p.toString()));
        }
        return out;
    }
}
