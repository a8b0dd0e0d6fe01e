package dev.triage.records;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

/** The size estimates the serializers cut by: upper bounds of what Jackson really writes. */
class JsonSizeTest {

    @Test
    void escapedSizeIsAnUpperBoundOfTheWrittenSizeForEveryChar() throws Exception {
        for (int c = 0; c <= 0xFFFF; c++) {
            String s = String.valueOf((char) c);
            assertThat(Json.escapedSize(s)).as("U+%04X", c).isGreaterThanOrEqualTo(written(s));
        }
        String pair = "\uD83D\uDE00"; // one emoji: four bytes
        assertThat(Json.escapedSize(pair)).isEqualTo(written(pair)).isEqualTo(4);
    }

    @Test
    void prefixWithinFitsTheBudgetAndNeverSplitsASurrogatePair() throws Exception {
        String text = "a\u0001\"\\\u00e9\u20ac\uD83D\uDE00".repeat(50);
        for (int budget = -1; budget < 600; budget++) {
            String prefix = Json.prefixWithin(text, budget);
            assertThat(text).startsWith(prefix);
            assertThat(written(prefix)).isLessThanOrEqualTo(Math.max(budget, 0));
            if (!prefix.isEmpty()) {
                assertThat(Character.isHighSurrogate(prefix.charAt(prefix.length() - 1))).isFalse();
            }
        }
        assertThat(Json.prefixWithin(text, Long.MAX_VALUE)).isSameAs(text);
    }

    @Test
    void utf8PrefixWithinFitsTheBudget() {
        String text = "s\u00fc\u20ac\uD83D\uDE00\uD800".repeat(100);
        for (int budget = 0; budget < 300; budget++) {
            String prefix = Json.utf8PrefixWithin(text, budget);
            assertThat(text).startsWith(prefix);
            assertThat(prefix.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(budget);
        }
    }

    /** The UTF-8 bytes of {@code s} inside a JSON string, as the serializers write it. */
    private static long written(String s) {
        var node = Json.object();
        node.put("k", s);
        return node.toString().getBytes(StandardCharsets.UTF_8).length - "{\"k\":\"\"}".length();
    }
}
