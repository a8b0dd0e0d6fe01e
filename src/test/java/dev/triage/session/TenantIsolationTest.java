package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.llm.TriageAnswer;
import dev.triage.records.CustomerContext;
import dev.triage.records.CustomerProfile;
import dev.triage.records.Tenants;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;

import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * Tenants collide no more (issue 12, "Tenants collide"): before, {@code session_id} was the only
 * key, so tenant B's {@code T-1} in {@code S-1} after tenant A's was dropped as a duplicate and B's
 * next prompt held A's text; and the incident cache served a reply written for customer A ("Dear
 * Ada") to B.
 */
class TenantIsolationTest extends SessionOperatorTestBase {

    private static Ticket of(String tenant, String session, String id, String body) {
        return ticket(session, id, body).inTenant(tenant);
    }

    @Test
    void theSameSessionAndTicketIdsInTwoTenantsAreTwoConversations() throws Exception {
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        harness.processElement(record(of("acme", "S-1", "T-1", "acme's secret order 1234")));
        llm.calls.get(0).answer(answer("billing", "acme summary"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);

        harness.processElement(record(of("globex", "S-1", "T-1", "globex asks about a refund")));
        runMailsUntil(() -> llm.calls.size() == 2);
        assertThat(llm.calls.get(1).allText())
                .as("globex's prompt holds nothing of acme's conversation")
                .doesNotContain("acme");
        llm.calls.get(1).answer(answer("billing", "globex summary"));
        runMailsUntil(() -> harness.extractOutputValues().size() == 2);

        assertThat(harness.extractOutputValues())
                .extracting(TriageResult::ticketId, TriageResult::turn, TriageResult::summary)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("T-1", 1, "acme summary"),
                        org.assertj.core.groups.Tuple.tuple("T-1", 1, "globex summary"));
        assertThat(harness.extractOutputValues())
                .extracting(TriageResult::tenantId)
                .containsExactly("acme", "globex");
        assertThat(deadLetters()).isEmpty();
    }

    @Test
    void withoutATenantTheKeysAreWhatTheyWere() {
        Ticket t = ticket("S-1", "T-1", "hello");
        assertThat(t.sessionKey()).isEqualTo("S-1");
        assertThat(t.inTenant("acme").sessionKey()).isEqualTo("acme\u001fS-1");
        assertThat(t.inTenant("acme").customerKey()).isEqualTo(Tenants.key("acme", "C-1"));
        assertThat(t.customerKey()).isEqualTo("C-1");
    }

    @Test
    void theIncidentCacheServesNoAnswerAcrossTenants() throws Exception {
        gatewaySettings = gateway(false, true);
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        harness.processElement(record(of("acme", "S-1", "T-1", "Is the site down?")));
        llm.calls.get(0).answer(answer("technical", "acme's site is down."));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);

        harness.processElement(record(of("globex", "S-2", "T-2", "Is the site down?")));
        runMailsUntil(() -> llm.calls.size() == 2);
        assertThat(harness.extractOutputValues()).hasSize(1);
        llm.calls.get(1).answer(answer("technical", "globex's site is fine."));
        runMailsUntil(() -> harness.extractOutputValues().size() == 2);
        assertThat(harness.extractOutputValues().get(1).cached()).isFalse();

        harness.processElement(record(of("acme", "S-3", "T-3", "is the SITE down")));
        runMailsUntil(() -> harness.extractOutputValues().size() == 3);
        assertThat(harness.extractOutputValues().get(2))
                .as("within a tenant the cache still answers")
                .extracting(TriageResult::cached, TriageResult::summary)
                .containsExactly(true, "acme's site is down.");
    }

    @Test
    void theIncidentCacheNeverServesAReplyThatNamesAnotherCustomer() throws Exception {
        gatewaySettings = gateway(false, true);
        harness = open(settings(8), null);
        FakeLlmClient llm = fake(clientId);
        CustomerContext ada =
                new CustomerContext(
                        new CustomerProfile("C-ADA", "Ada Lovelace", "gold", "pro", "en"),
                        List.of());
        harness.processElement(record(ticket("S-1", "T-1", "Is the site down?").withCustomer(ada)));
        llm.calls
                .get(0)
                .answer(
                        new TriageAnswer(
                                "technical",
                                "normal",
                                "neutral",
                                "Outage question.",
                                "Dear Ms LOVELACE, the site is back.",
                                0.9));
        runMailsUntil(() -> harness.extractOutputValues().size() == 1);

        CustomerContext bob =
                new CustomerContext(
                        new CustomerProfile("C-BOB", "Bob", "silver", "pro", "en"), List.of());
        harness.processElement(record(ticket("S-2", "T-2", "Is the site down?").withCustomer(bob)));
        runMailsUntil(() -> llm.calls.size() == 2);
        llm.calls.get(1).answer(answer("technical", "Outage question."));
        runMailsUntil(() -> harness.extractOutputValues().size() == 2);
        assertThat(harness.extractOutputValues().get(1).draftReply()).doesNotContain("Lovelace");
        assertThat(harness.extractOutputValues().get(1).cached()).isFalse();

        // Bob's answer names nobody: it is cached and serves the next customer.
        harness.processElement(record(ticket("S-3", "T-3", "Is the site down?")));
        runMailsUntil(() -> harness.extractOutputValues().size() == 3);
        assertThat(harness.extractOutputValues().get(2).cached()).isTrue();
    }
}
