package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import java.util.Set;

class TriageAnswerParserTest {

    private final TriageAnswerParser parser = new TriageAnswerParser(Set.of("billing", "other"));

    private static final String VALID =
            "{\"category\":\"billing\",\"priority\":\"high\",\"sentiment\":\"negative\","
                    + "\"summary\":\"Charged twice.\",\"draft_reply\":\"Sorry!\",\"confidence\":0.8}";

    @Test
    void acceptsAnAnswerThatFollowsTheContract() throws Exception {
        TriageAnswer a = parser.parse(VALID);
        assertThat(a)
                .isEqualTo(
                        new TriageAnswer(
                                "billing", "high", "negative", "Charged twice.", "Sorry!", 0.8));
        assertThat(parser.parse(a.toJson())).isEqualTo(a);
    }

    @Test
    void acceptsJsonInsideAMarkdownCodeFence() throws Exception {
        assertThat(parser.parse("```json\n" + VALID + "\n```").category()).isEqualTo("billing");
    }

    @Test
    void rejectsWhatBreaksTheContract() {
        assertThatThrownBy(() -> parser.parse("{\"category\":"))
                .hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> parser.parse("[]")).hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> parser.parse(VALID.replace("billing", "astrology")))
                .hasMessageContaining("unknown category 'astrology'");
        assertThatThrownBy(() -> parser.parse(VALID.replace("high", "meh")))
                .hasMessageContaining("priority");
        assertThatThrownBy(() -> parser.parse(VALID.replace("negative", "angry")))
                .hasMessageContaining("sentiment");
        assertThatThrownBy(() -> parser.parse(VALID.replace("0.8", "1.5")))
                .hasMessageContaining("outside 0..1");
        assertThatThrownBy(() -> parser.parse(VALID.replace("\"summary\"", "\"sumary\"")))
                .hasMessageContaining("summary");
        assertThatThrownBy(() -> parser.parse(" ")).hasMessageContaining("empty");
    }

    @Test
    void rejectsASummaryOrDraftReplyLongerThanTheBound() throws Exception {
        String summary2000 = "s".repeat(TriageAnswerParser.DEFAULT_MAX_SUMMARY_CHARS);
        String reply8000 = "r".repeat(TriageAnswerParser.DEFAULT_MAX_DRAFT_REPLY_CHARS);
        assertThat(parser.parse(answer(summary2000, reply8000)).summary()).isEqualTo(summary2000);

        assertThatThrownBy(() -> parser.parse(answer(summary2000 + "s", "ok")))
                .isInstanceOf(TriageAnswerParser.InvalidAnswerException.class)
                .hasMessageContaining("summary")
                .hasMessageContaining("2000");
        assertThatThrownBy(() -> parser.parse(answer("ok", reply8000 + "r")))
                .isInstanceOf(TriageAnswerParser.InvalidAnswerException.class)
                .hasMessageContaining("draft_reply")
                .hasMessageContaining("8000");
    }

    @Test
    void anAnswerWithAKeyTwiceIsRejectedNotTheLastOneWins() {
        // Before, {"category":"other", ..., "category":"billing"} was billing: a ticket that makes
        // the model repeat a key picks the value that counts.
        String twice = VALID.replace("{", "{\"priority\":\"low\",");
        assertThatThrownBy(() -> parser.parse(twice))
                .isInstanceOf(TriageAnswerParser.InvalidAnswerException.class)
                .hasMessageContaining("Duplicate field 'priority'");
    }

    @Test
    void theBoundsAreSettings() throws Exception {
        var strict = new TriageAnswerParser(Set.of("billing"), 10, 20);
        assertThat(strict.parse(answer("s".repeat(10), "r".repeat(20)))).isNotNull();
        assertThatThrownBy(() -> strict.parse(answer("s".repeat(11), "r")))
                .hasMessageContaining("summary");
        assertThatThrownBy(() -> strict.parse(answer("s", "r".repeat(21))))
                .hasMessageContaining("draft_reply");
    }

    @Test
    void anUnknownCategoryIsQuotedShortlyInTheReason() {
        String huge = "x".repeat(100_000);
        assertThatThrownBy(() -> parser.parse(VALID.replace("billing", huge)))
                .hasMessageContaining("unknown category")
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(500));
    }

    private static String answer(String summary, String draftReply) {
        return new TriageAnswer("billing", "high", "negative", summary, draftReply, 0.8).toJson();
    }
}
