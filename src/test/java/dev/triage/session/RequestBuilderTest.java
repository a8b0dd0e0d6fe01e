package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.config.GatewaySettings;
import dev.triage.config.PromptSettings;
import dev.triage.config.TriageOptions;
import dev.triage.llm.ChatMessage;
import dev.triage.llm.TriageAnswer;
import dev.triage.records.Ticket;
import dev.triage.session.OutcomePolicy.RepairNote;
import dev.triage.testing.TestSettings;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import java.util.List;

/** What a ticket's call says, and when the incident cache answers instead. */
class RequestBuilderTest {

    private static final PromptSettings PROMPTS =
            TestSettings.yaml(
                            """
                            triage.system-prompt: Triage.
                            triage.categories: {billing: money, other: rest}
                            """)
                    .prompt();

    private static RequestBuilder builder(boolean incidentCache) {
        Configuration conf = new Configuration();
        conf.set(TriageOptions.INCIDENT_CACHE, incidentCache);
        return RequestBuilder.of(PROMPTS, GatewaySettings.from(conf), 4000);
    }

    private static PendingTicket first(String session, String body) {
        return new PendingTicket(SessionOperatorTestBase.ticket(session, "T-1", body), 1, 0L);
    }

    private static final TriageAnswer ANSWER = SessionOperatorTestBase.answer("billing", "down");

    @Test
    void theIncidentCacheAnswersTheSameFirstTicketOfAnotherSession() {
        RequestBuilder b = builder(true);
        PendingTicket a = first("S-1", "the site is down");
        assertThat(b.cached(a, null, 0)).isNull();
        b.answered(a, false, ANSWER, "m-1", 0);

        var hit = b.cached(first("S-2", "the site is down"), null, 10);
        assertThat(hit).isNotNull();
        assertThat(hit.getKey()).isEqualTo(ANSWER);
        assertThat(hit.getValue()).isEqualTo("m-1");
    }

    @Test
    void onlyAFirstTicketOnItsFirstTryAndNotUnderRepairUsesTheCache() {
        RequestBuilder b = builder(true);
        b.answered(first("S-1", "down"), false, ANSWER, "m-1", 0);
        PendingTicket fresh = first("S-2", "down");
        assertThat(b.cached(fresh.sent(1), null, 10)).as("a retry").isNull();
        assertThat(b.cached(fresh, new RepairNote("T-1", "x", "y"), 10)).as("a repair").isNull();
        var second = new PendingTicket(SessionOperatorTestBase.ticket("S-2", "T-2", "down"), 2, 0L);
        assertThat(b.cached(second, null, 10)).as("a later turn").isNull();
        assertThat(builder(false).cached(fresh, null, 10)).as("cache off").isNull();
    }

    @Test
    void repairedAndLaterAnswersAreNotCached() {
        RequestBuilder b = builder(true);
        b.answered(first("S-1", "down"), true, ANSWER, "m-1", 0);
        var second =
                new PendingTicket(SessionOperatorTestBase.ticket("S-1", "T-2", "later"), 2, 0L);
        b.answered(second, false, ANSWER, "m-1", 0);
        assertThat(b.cached(first("S-2", "down"), null, 10)).isNull();
        assertThat(b.cached(first("S-2", "later"), null, 10)).isNull();
    }

    @Test
    void aRepairShowsTheModelItsAnswerAndTheProblem() {
        RequestBuilder b = builder(false);
        Ticket t = SessionOperatorTestBase.ticket("S-1", "T-1", "hello");
        List<ChatMessage> plain = b.messages(List.of(), t, null);
        List<ChatMessage> repair = b.messages(List.of(), t, new RepairNote("T-1", null, "bad"));
        assertThat(repair).hasSize(plain.size() + 2);
        assertThat(repair.get(plain.size()).content()).isEqualTo("(no answer)");
        assertThat(repair.get(plain.size() + 1).content()).contains("bad");
        assertThat(b.tokens(repair)).isGreaterThan(b.tokens(plain));
    }

    @Test
    void earlierTurnsGoIntoTheRequest() {
        RequestBuilder b = builder(false);
        PendingTicket p = first("S-1", "my invoice is wrong");
        Turn turn = b.turn(p, ANSWER);
        assertThat(turn.turn()).isEqualTo(1);
        assertThat(turn.ticketId()).isEqualTo("T-1");
        Ticket next = SessionOperatorTestBase.ticket("S-1", "T-2", "and again");
        assertThat(b.messages(List.of(turn), next, null))
                .hasSizeGreaterThan(b.messages(List.of(), next, null).size());
    }
}
