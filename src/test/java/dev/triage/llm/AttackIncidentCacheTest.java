package dev.triage.llm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.records.CustomerContext;
import dev.triage.records.CustomerProfile;
import dev.triage.records.Ticket;

import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * Attacks on {@link IncidentCache#namesCustomer} (d120eae): an answer that greets its customer by
 * name must never be cached, or the next customer with the same text is greeted by someone else's
 * name. The check takes only name words of three or more letters, as whole space-separated words:
 * short names and names in scripts written without spaces get through. Each test fails until fixed.
 */
class AttackIncidentCacheTest {

    private static Ticket of(String name) {
        return new Ticket("T-1", "S-1", "C-1", "email", null, "Is the site down?", 0, "t", 0, 0)
                .withCustomer(
                        new CustomerContext(
                                new CustomerProfile("C-1", name, "gold", "pro", "en"), List.of()));
    }

    private static TriageAnswer reply(String draft) {
        return new TriageAnswer("technical", "normal", "neutral", "Outage.", draft, 0.9);
    }

    @Test
    void aShortNameIsStillTheCustomersName() {
        assertThat(IncidentCache.namesCustomer(reply("Dear Li Wu, the site is back."), of("Li Wu")))
                .as("'Li' and 'Wu' have two letters each: neither is checked")
                .isTrue();
    }

    @Test
    void aNameInAScriptWrittenWithoutSpacesIsStillTheCustomersName() {
        assertThat(IncidentCache.namesCustomer(reply("王小芳您好，网站已经恢复了。"), of("王小芳")))
                .as("the name is not a space-separated word of the Chinese reply")
                .isTrue();
    }
}
