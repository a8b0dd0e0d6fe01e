package dev.triage.tools.bench;

import dev.triage.llm.TriageAnswer;
import dev.triage.llm.TriageAnswerParser;
import dev.triage.records.TriageResult;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.types.Row;

import java.util.Set;

/**
 * Turns an ML_PREDICT row (ticket id, session id, customer id, the model's answer) into a result.
 * An answer that does not parse becomes a result with category "invalid", so it is counted, not
 * lost: ML_PREDICT has no dead-letter output of its own.
 */
final class SqlAnswerToResult implements MapFunction<Row, TriageResult> {

    private static final long serialVersionUID = 1L;

    private final Set<String> categories;
    private transient TriageAnswerParser parser;

    SqlAnswerToResult(Set<String> categories) {
        this.categories = Set.copyOf(categories);
    }

    @Override
    public TriageResult map(Row row) {
        if (parser == null) {
            parser = new TriageAnswerParser(categories);
        }
        String answerJson = (String) row.getField("answer");
        TriageAnswer a;
        try {
            a = parser.parse(answerJson);
        } catch (TriageAnswerParser.InvalidAnswerException e) {
            a = new TriageAnswer("invalid", "normal", "neutral", e.getMessage(), "", 0.0);
        }
        long now = System.currentTimeMillis();
        return new TriageResult(
                (String) row.getField("ticket_id"),
                (String) row.getField("session_id"),
                (String) row.getField("customer_id"),
                0,
                a.category(),
                a.priority(),
                a.sentiment(),
                a.summary(),
                a.draftReply(),
                a.confidence(),
                "ml_predict",
                1,
                0,
                0,
                0L,
                now,
                0,
                false);
    }
}
