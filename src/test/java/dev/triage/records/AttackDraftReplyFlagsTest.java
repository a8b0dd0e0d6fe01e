package dev.triage.records;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Attacks on the hand-written word search of {@link DraftReplyFlags} (session 7): what a ticket and
 * a reply it steered can make it cost.
 */
class AttackDraftReplyFlagsTest {

    /**
     * A ticket body of 32,000 'a's (within ticket.max-body-bytes) ending in the word "aa", and a
     * reply (within triage.max-draft-reply-chars) that is "Hi Aa " over and over. Every greeting
     * names a word of the ticket, so no check stops early, and {@code hasWord} walks all 32,000
     * positions where "aa" occurs inside the long run for each of the 1,333 greetings: about 43
     * million steps for one result, on the task thread. The regex split it replaced built the
     * ticket's word set once (measured with the replaced class: 4-16 ms for this input; the new
     * one: 330-570 ms).
     */
    @Test
    void greetingsOfAWordAtTheEndOfAHugeTicketCostLinearTime() {
        String own = "a".repeat(32_000) + " aa";
        String reply = "Hi Aa ".repeat(8_000 / 6);
        DraftReplyFlags.of("Hi Aa", "aa"); // loaded and warm
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            assertThat(DraftReplyFlags.of(reply, own)).isEmpty();
            best = Math.min(best, System.nanoTime() - start);
        }
        assertThat(best / 1_000_000)
                .as("ms for the flags of one 8,000-char reply against a 32 KB ticket")
                .isLessThan(150);
    }
}
