package dev.triage.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.llm.TriageAnswer;
import dev.triage.llm.TriageAnswerParser;
import dev.triage.llm.TriageAnswerParser.InvalidAnswerException;
import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetterSerializer;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;
import dev.triage.records.TriageResultSerializer;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * A model's answer: a valid answer within the contract and its bounds, or an unusable one with a
 * reason; either way the result or the dead letter fits a Kafka record.
 */
class TriageAnswerParserFuzzTest {

    static final Set<String> CATEGORIES = Set.of("billing", "technical", "other");
    static final Ticket TICKET =
            new Ticket("T-1", "S-1", "C-1", "email", "Subj", "Body", 0L, "tickets", 0, 1L);

    private final TriageAnswerParser parser = new TriageAnswerParser(CATEGORIES);

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) {
        String content = new String(data, StandardCharsets.UTF_8);
        TriageAnswer answer;
        try {
            answer = parser.parse(content);
        } catch (InvalidAnswerException e) {
            assertThat(e.getMessage()).isNotBlank();
            DeadLetter letter =
                    DeadLetter.ofTicket(
                            DeadLetter.Reason.LLM_INVALID_OUTPUT,
                            e.getMessage(),
                            TICKET,
                            content,
                            0L);
            FuzzInputs.assertFits(
                    new DeadLetterSerializer("dlq").serialize(letter, null, 0L), 1_000_000);
            return;
        }
        assertThat(CATEGORIES).contains(answer.category());
        assertThat(TriageAnswer.PRIORITIES).contains(answer.priority());
        assertThat(TriageAnswer.SENTIMENTS).contains(answer.sentiment());
        assertThat(answer.summary())
                .hasSizeLessThanOrEqualTo(TriageAnswerParser.DEFAULT_MAX_SUMMARY_CHARS);
        assertThat(answer.draftReply())
                .hasSizeLessThanOrEqualTo(TriageAnswerParser.DEFAULT_MAX_DRAFT_REPLY_CHARS);
        assertThat(answer.confidence()).isBetween(0.0, 1.0);
        TriageResult result =
                new TriageResult(
                        "T-1",
                        "S-1",
                        "C-1",
                        1,
                        answer.category(),
                        answer.priority(),
                        answer.sentiment(),
                        answer.summary(),
                        answer.draftReply(),
                        answer.confidence(),
                        "m",
                        1,
                        1,
                        1,
                        0L,
                        0L,
                        0L,
                        false);
        var record = new TriageResultSerializer("results").serialize(result, null, 0L);
        FuzzInputs.assertFits(record, 1_000_000);
        try {
            // a valid answer is written whole, never cut
            assertThat(dev.triage.io.Json.MAPPER.readTree(record.value()).has("truncated"))
                    .isFalse();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
