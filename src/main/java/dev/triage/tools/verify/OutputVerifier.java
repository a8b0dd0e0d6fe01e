package dev.triage.tools.verify;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks the job's output as a read_committed consumer sees it: no ticket answered twice, no ticket
 * both answered and dead-lettered, and per session turns that increase in topic order without gaps
 * (sessions with a model-side dead letter may skip that ticket's turn).
 */
public final class OutputVerifier {

    /** What the check found. */
    public record Report(
            int results,
            int deadLetters,
            int sessions,
            List<String> duplicates,
            List<String> orderViolations,
            List<String> turnGaps) {

        public boolean ok() {
            return duplicates.isEmpty() && orderViolations.isEmpty() && turnGaps.isEmpty();
        }

        public String summary() {
            return String.format(
                    "results %d, dead letters %d, sessions %d, duplicates %d, order violations %d,"
                            + " turn gaps %d%s",
                    results,
                    deadLetters,
                    sessions,
                    duplicates.size(),
                    orderViolations.size(),
                    turnGaps.size(),
                    ok() ? "" : "; first problems: " + firstProblems());
        }

        private String firstProblems() {
            List<String> all = new ArrayList<>(duplicates);
            all.addAll(orderViolations);
            all.addAll(turnGaps);
            return String.join("; ", all.subList(0, Math.min(5, all.size())));
        }
    }

    private OutputVerifier() {}

    /** Results and dead letters as JSON lines, each list in topic (partition) order. */
    public static Report verify(List<String> results, List<String> deadLetters) throws IOException {
        Set<String> answered = new HashSet<>();
        List<String> duplicates = new ArrayList<>();
        Map<String, List<Integer>> turns = new HashMap<>();
        for (String line : results) {
            JsonNode r = Json.MAPPER.readTree(line);
            String id = r.get("ticket_id").asText();
            if (!answered.add(id)) {
                duplicates.add("answered twice: " + id);
            }
            turns.computeIfAbsent(r.get("session_id").asText(), s -> new ArrayList<>())
                    .add(r.get("turn").asInt());
        }
        Set<String> sessionsWithModelFailures = new HashSet<>();
        Set<String> deadIds = new HashSet<>();
        for (String line : deadLetters) {
            JsonNode d = Json.MAPPER.readTree(line);
            if (d.hasNonNull("ticket_id") && d.get("reason").asText().startsWith("llm_")) {
                String id = d.get("ticket_id").asText();
                if (answered.contains(id) || !deadIds.add(id)) {
                    duplicates.add("dead-lettered twice or also answered: " + id);
                }
                sessionsWithModelFailures.add(d.path("session_id").asText());
            }
        }
        List<String> orderViolations = new ArrayList<>();
        List<String> gaps = new ArrayList<>();
        for (var e : turns.entrySet()) {
            List<Integer> t = e.getValue();
            for (int i = 1; i < t.size(); i++) {
                if (t.get(i) <= t.get(i - 1)) {
                    orderViolations.add(e.getKey() + " turns " + t);
                    break;
                }
            }
            if (!sessionsWithModelFailures.contains(e.getKey())) {
                List<Integer> sorted = t.stream().sorted().toList();
                for (int i = 0; i < sorted.size(); i++) {
                    if (sorted.get(i) != i + 1) {
                        gaps.add(e.getKey() + " turns " + sorted);
                        break;
                    }
                }
            }
        }
        return new Report(
                results.size(),
                deadLetters.size(),
                turns.size(),
                duplicates,
                orderViolations,
                gaps);
    }
}
