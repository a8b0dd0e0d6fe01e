package dev.triage.records;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** What a support tool is told about a draft reply before anyone shows it to a customer. */
class DraftReplyFlagsTest {

    private static List<String> flags(String reply) {
        return DraftReplyFlags.of(reply, "My order 4711 has not arrived. Write to ada@example.org");
    }

    @Test
    void aPlainPoliteReplyHasNoFlag() {
        assertThat(
                        flags(
                                "Thanks for contacting us. We are checking order 4711 with the"
                                        + " carrier; e.g. a delay of 2-3 days is normal. You wrote"
                                        + " from ada@example.org, we will answer there. Kind regards,"
                                        + " the support team."))
                .isEmpty();
        assertThat(DraftReplyFlags.of(null, null)).isEmpty();
        assertThat(DraftReplyFlags.of("", "")).isEmpty();
    }

    @Test
    void tagsCommentsAndEntitiesAreHtml() {
        assertThat(flags("Hello <SCRIPT>alert(1)</SCRIPT>")).containsExactly("html");
        assertThat(flags("Hello <img src=x onerror=alert(1)>")).containsExactly("html");
        assertThat(flags("Hi <!-- hidden --> there")).containsExactly("html");
        assertThat(flags("Hi &lt;b&gt; there")).containsExactly("html");
        assertThat(flags("Hi &#60;b&#x3e; there")).containsExactly("html");
        assertThat(flags("Hi \uff1cscript\uff1e there")).containsExactly("html");
        assertThat(flags("Hi < /b> there")).containsExactly("html");
        assertThat(flags("a < b and c > d, fish & chips")).isEmpty();
    }

    @Test
    void everyFormOfLinkIsALink() {
        for (String reply :
                List.of(
                        "Reset it at https://login.example.com/reset now.",
                        "Reset it at HTTP://LOGIN.EXAMPLE.COM now.",
                        "Go to www.example.com please.",
                        "Go to example.com please.",
                        "Go to shop.example.co.uk/pay please.",
                        "Go to hxxps://evil.example/pay please.",
                        "Go to evil[.]com please.",
                        "Go to evil(dot)com please.",
                        "Go to xn--80ak6aa92e.com please.",
                        "Go to пример.рф please.",
                        "Go to ex\u200bample.com please.",
                        "Go to \uff45\uff56\uff49\uff4c.com please.",
                        "Click javascript:alert(1) please.",
                        "Click JavaScript :alert(1) please.",
                        "Open data:text/html;base64,PHNjcmlwdD4= please.",
                        "Visit 203.0.113.9 please.",
                        "See [your account](http://x.y) please.",
                        "ftp://files.example.net/a")) {
            assertThat(flags(reply)).as(reply).contains("links");
        }
        assertThat(flags("Thanks.We will check.Your order is fine.")).isEmpty();
    }

    @Test
    void contactDetailsNotInTheTicketAreFlaggedAndTheTicketsOwnAreNot() {
        assertThat(flags("Write to refunds@evil.example.")).containsExactly("contact_details");
        assertThat(flags("Write to REFUNDS [at] evil [dot] example")).contains("contact_details");
        assertThat(flags("Call us at +44 20 7946 0958.")).containsExactly("contact_details");
        assertThat(flags("Call us at (555) 123-4567.")).containsExactly("contact_details");
        assertThat(flags("Call mailto:help@evil.example")).contains("contact_details", "links");
        // the customer's own address and order number are not someone else's contact details
        assertThat(flags("We will answer to ADA@example.org about order 4711.")).isEmpty();
        assertThat(
                        DraftReplyFlags.of(
                                "We will call you at +49 30 1234567.",
                                "Please call me at +49 (30) 123-4567"))
                .isEmpty();
        // dates, times and amounts are no phone numbers
        assertThat(flags("On 2026-01-15 at 14:30 we refunded 1,234.56 EUR.")).isEmpty();
    }

    @Test
    void codeFencesAndTemplatesAreCode() {
        assertThat(flags("Run this:\n```\nrm -rf /\n```")).containsExactly("code");
        assertThat(flags("Hello {{customer.password}}")).containsExactly("code");
        assertThat(flags("Hello ${jndi:ldap}")).contains("code");
    }

    @Test
    void aReplyThatGreetsSomeoneElseMentionsAnotherCustomer() {
        Ticket bob =
                new Ticket("T-2", "S-2", "C-2", "email", "Outage", "Is it down?", 0L, "t", 0, 0L)
                        .withCustomer(
                                new CustomerContext(
                                        new CustomerProfile("C-2", "Bob Stone", "gold", null, null),
                                        List.of()));
        // a reply written for Ada (the incident cache serves one reply to many tickets)
        assertThat(DraftReplyFlags.forTicket("Dear Ada, we are on it.", bob))
                .containsExactly("mentions_other_customer");
        assertThat(DraftReplyFlags.forTicket("Hello Ada Lovelace, we are on it.", bob))
                .containsExactly("mentions_other_customer");
        assertThat(DraftReplyFlags.forTicket("Dear Bob, we are on it.", bob)).isEmpty();
        assertThat(DraftReplyFlags.forTicket("Hi Stone, we are on it.", bob)).isEmpty();
        assertThat(DraftReplyFlags.forTicket("Hi there, dear customer. Hello again!", bob))
                .isEmpty();
        // a name the ticket itself signs with is the customer's own
        Ticket signed =
                new Ticket("T-3", "S-3", null, "email", null, "Help! Carla", 0L, "t", 0, 0L);
        assertThat(DraftReplyFlags.forTicket("Dear Carla, we will help.", signed)).isEmpty();
    }

    @Test
    void theWorkIsBoundedAndAnOverlongReplyIsFlagged() {
        String huge = "a.".repeat(200_000) + "a";
        long start = System.nanoTime();
        List<String> f = DraftReplyFlags.of(huge, huge);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(f).contains("too_long");
        assertThat(millis).isLessThan(2_000);
        assertThat(DraftReplyFlags.of("x".repeat(DraftReplyFlags.MAX_CHECKED_CHARS), null))
                .isEmpty();
    }

    @Test
    void flagsComeInOneFixedOrder() {
        assertThat(
                        flags(
                                "<b>Hi</b> see https://x.example or mail a@b.example```x```"
                                        + " and the rest"))
                .containsExactly("html", "links", "contact_details", "code");
        assertThat(
                        DraftReplyFlags.of(
                                "Dear Eve, <b>x</b> https://x.example a@b.example ```x```",
                                "I am Bob"))
                .containsExactly(
                        "html", "links", "contact_details", "code", "mentions_other_customer");
    }

    /** The regex the token scan replaced: the scan must find exactly its tokens with '@' or '.'. */
    private static final Pattern SEPARATORS = Pattern.compile("[\\s<>\"'`,;!|\\\\^\\[\\](){}*]+");

    /** The regex the word search replaced: the words of a text. */
    private static final Pattern NON_LETTERS = Pattern.compile("[^\\p{L}'\u2019-]+");

    /** Characters that matter to both scans, and some that do not. */
    private static final String ALPHABET =
            " \t\n\u000B\f\r<>\"'`,;!|\\^[](){}*@.:-_?abcAdZ09\u2019\u00e9\u0130\u03a3\u4e00\u00a0\u2028";

    private static String randomText(Random random, int maxLength) {
        StringBuilder b = new StringBuilder();
        int length = random.nextInt(maxLength);
        for (int i = 0; i < length; i++) {
            if (random.nextInt(40) == 0) {
                b.appendCodePoint(0x20000 + random.nextInt(50)); // a letter outside the BMP
            } else {
                b.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
        }
        return b.toString();
    }

    @Test
    void theTokenScanFindsWhatTheSeparatorRegexSplitsOut() {
        Random random = new Random(7);
        for (int n = 0; n < 20_000; n++) {
            String text = randomText(random, 60);
            List<String> expected =
                    Arrays.stream(SEPARATORS.split(text))
                            .filter(t -> t.indexOf('@') >= 0 || t.indexOf('.') >= 0)
                            .toList();
            assertThat(DraftReplyFlags.candidateTokens(text)).as(text).isEqualTo(expected);
        }
    }

    @Test
    void theWordScanFindsTheWordsTheLetterRegexSplitsOut() {
        Random random = new Random(11);
        for (int n = 0; n < 20_000; n++) {
            String text = randomText(random, 40).toLowerCase(Locale.ROOT);
            Set<String> expected =
                    Arrays.stream(NON_LETTERS.split(text))
                            .filter(w -> !w.isEmpty())
                            .collect(Collectors.toSet());
            assertThat(DraftReplyFlags.words(text)).as(text).isEqualTo(expected);
        }
        assertThat(DraftReplyFlags.words("dear ada-lovelace, ada's \ud840\udc00x"))
                .containsExactlyInAnyOrder("dear", "ada-lovelace", "ada's", "\ud840\udc00x");
    }

    @Test
    void theOwnTextIsReadOnlyWhenACheckNeedsIt() {
        assertThat(DraftReplyFlags.of("Dear Ada, we are on it.", "Ada here")).isEmpty();
        assertThat(DraftReplyFlags.of("Dear Bob, we are on it.", "Ada here"))
                .containsExactly("mentions_other_customer");
        assertThat(DraftReplyFlags.of("Call +1 555 010 9999 or write to bob@example.com", null))
                .containsExactly("contact_details");
    }
}
