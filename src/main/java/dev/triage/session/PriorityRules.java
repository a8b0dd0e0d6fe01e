package dev.triage.session;

import dev.triage.config.CustomerSettings;
import dev.triage.llm.TriageAnswer;
import dev.triage.records.CustomerContext;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;

/**
 * Business rules on top of the model's priority, from the customer's context:
 *
 * <ol>
 *   <li>A customer of a high tier ({@code customers.high-tiers}) with a negative ticket gets one
 *       level more: low to normal, normal to high, high to urgent.
 *   <li>A customer with at least {@code customers.repeat-contacts} earlier tickets within {@code
 *       customers.repeat-window} gets at least high: they keep coming back.
 * </ol>
 *
 * Rules only raise a priority, never lower it; without a customer context they do nothing.
 */
public final class PriorityRules implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final List<String> LEVELS = TriageAnswer.PRIORITIES;

    public static final PriorityRules NONE = new PriorityRules(List.of(), 0, 0);

    private final List<String> highTiers;
    private final int repeatContacts;
    private final long repeatWindowMillis;

    public PriorityRules(List<String> highTiers, int repeatContacts, long repeatWindowMillis) {
        this.highTiers = highTiers.stream().map(t -> t.toLowerCase(Locale.ROOT)).toList();
        this.repeatContacts = repeatContacts;
        this.repeatWindowMillis = repeatWindowMillis;
    }

    public static PriorityRules from(CustomerSettings s) {
        return s.enabled()
                ? new PriorityRules(s.highTiers(), s.repeatContacts(), s.repeatWindow().toMillis())
                : NONE;
    }

    /** The priority after the rules, for a ticket created at {@code createdAt}. */
    public String apply(
            String priority, String sentiment, CustomerContext customer, long createdAt) {
        if (customer == null || !LEVELS.contains(priority)) {
            return priority;
        }
        int level = LEVELS.indexOf(priority);
        var profile = customer.profile();
        if (profile != null
                && profile.tier() != null
                && highTiers.contains(profile.tier().toLowerCase(Locale.ROOT))
                && "negative".equals(sentiment)) {
            level = Math.min(LEVELS.size() - 1, level + 1);
        }
        if (repeatContacts > 0
                && customer.ticketsSince(createdAt - repeatWindowMillis) >= repeatContacts) {
            level = Math.max(level, LEVELS.indexOf("high"));
        }
        return LEVELS.get(level);
    }
}
