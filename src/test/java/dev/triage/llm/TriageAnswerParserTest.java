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
}
