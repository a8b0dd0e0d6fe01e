package dev.triage.fuzz;

import dev.triage.prompt.PromptBuilder;
import dev.triage.prompt.PromptInjectionCorpusTest;
import dev.triage.records.CustomerContext;
import dev.triage.records.CustomerProfile;
import dev.triage.records.PastTicket;
import dev.triage.records.Ticket;
import dev.triage.session.Turn;
import dev.triage.testing.TestSettings;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

/**
 * Any text in any field the prompt carries (ticket id, channel, subject, body, the customer's
 * fields, a recent ticket's fields, an earlier turn): the ticket stays one data block that parses
 * back to its fields, and nothing of it appears outside. Texts 0 to 8 of {@link FuzzInputs} fill
 * the fields in that order.
 */
class PromptBuilderFuzzTest {

    private static final PromptBuilder PROMPTS =
            new PromptBuilder(
                    TestSettings.yaml(
                                    """
                                    triage.system-prompt: Triage.
                                    triage.categories: {billing: Money., other: Rest.}
                                    """)
                            .prompt());

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) throws Exception {
        FuzzInputs in = new FuzzInputs(data);
        check(
                in.text(0),
                in.text(1),
                in.text(2),
                in.text(3),
                in.text(4),
                in.text(5),
                in.text(6),
                in.text(7),
                in.text(8));
    }

    /**
     * Random strings over an alphabet of what breaks prompts: the markers' characters, quotes,
     * backslashes, line breaks of every kind, invisible and direction characters, lookalikes, lone
     * and paired surrogates, letters. Seeded: a failure names its seed and replays.
     */
    @Test
    void randomTextsInEveryFieldStayInsideTheBlock() throws Exception {
        for (long seed = 0; seed < 300; seed++) {
            Random r = new Random(seed);
            String[] t = new String[9];
            for (int i = 0; i < t.length; i++) {
                t[i] = r.nextInt(8) == 0 ? null : random(r, r.nextInt(r.nextBoolean() ? 20 : 400));
            }
            try {
                check(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8]);
            } catch (AssertionError e) {
                throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
            }
        }
    }

    private static final String[] PIECES = {
        "<",
        ">",
        "&",
        "/",
        "ticket",
        "</ticket>",
        "<ticket>",
        "\"",
        "\\",
        "\\u003c",
        "\n",
        "\r",
        "\u2028",
        "\u2029",
        "\u0085",
        "\u0000",
        "\u001b",
        "\u007f",
        "\u200b",
        "\u202e",
        "\u2066",
        "\ufeff",
        "\ufe0f",
        "\uff1c",
        "\uff1e",
        "\u2039",
        "\u27e8",
        "\ud83d\ude00",
        "\udb40\udc41",
        "\ud800",
        "\udc00",
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        " ",
        "a",
        "é",
        "日",
        "System:",
        "Customer: Mallory (tier enterprise)",
        "```",
        "<|im_start|>",
        "%3C",
        "&lt;"
    };

    private static String random(Random r, int pieces) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < pieces; i++) {
            s.append(PIECES[r.nextInt(PIECES.length)]);
        }
        return s.toString();
    }

    private static void check(
            String ticketId,
            String channel,
            String subject,
            String body,
            String name,
            String tier,
            String pastId,
            String pastCategory,
            String earlier)
            throws Exception {
        CustomerContext customer =
                new CustomerContext(
                        name == null && tier == null
                                ? null
                                : new CustomerProfile("C-1", name, tier, null, "en"),
                        pastId == null
                                ? List.of()
                                : List.of(
                                        new PastTicket(
                                                pastId, "S-0", pastCategory, "high", null, 0L)));
        Ticket t =
                new Ticket(
                                ticketId == null ? "" : ticketId,
                                "S-1",
                                "C-1",
                                channel,
                                subject,
                                body == null ? "" : body,
                                0L,
                                "tickets",
                                0,
                                1L)
                        .withCustomer(customer);
        Ticket before =
                new Ticket(
                        "T-0",
                        "S-1",
                        "C-1",
                        channel,
                        earlier,
                        body == null ? "" : body,
                        0L,
                        "t",
                        0,
                        0L);
        List<Turn> history =
                List.of(
                        new Turn(
                                1,
                                "T-0",
                                PromptBuilder.historyText(before, 2000),
                                PromptInjectionCorpusTest.answer()),
                        new Turn(
                                2,
                                "T-0",
                                earlier == null ? "" : earlier,
                                earlier == null ? "{}" : earlier));
        PromptInjectionCorpusTest.assertPrompt(
                PROMPTS, PROMPTS.messages(history, t), t, String.valueOf(body));
    }
}
