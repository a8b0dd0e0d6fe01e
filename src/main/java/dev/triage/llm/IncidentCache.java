package dev.triage.llm;

import java.text.Normalizer;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Answers to first tickets by their normalized text, for incident floods: when hundreds of sessions
 * open with "Is the site down??", one call answers them all. Entries expire after the window; the
 * least recently used go first beyond the capacity. In memory, per subtask, task thread only: it is
 * an optimisation, and a restart simply starts it empty.
 */
public final class IncidentCache {

    private record Entry(TriageAnswer answer, String model, long storedAt) {}

    private final long windowMillis;
    private final LinkedHashMap<String, Entry> entries;
    private long hits;
    private long misses;

    public IncidentCache(long windowMillis, int maxEntries) {
        this.windowMillis = windowMillis;
        this.entries =
                new LinkedHashMap<>(16, 0.75f, true) {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                        return size() > maxEntries;
                    }
                };
    }

    /** Case, accents, punctuation and runs of whitespace do not make two tickets different. */
    public static String normalize(String subject, String body) {
        String text = (subject == null ? "" : subject) + " " + (body == null ? "" : body);
        String folded =
                Normalizer.normalize(text, Normalizer.Form.NFKD)
                        .replaceAll("\\p{M}+", "")
                        .toLowerCase(Locale.ROOT);
        return folded.replaceAll("[^\\p{L}\\p{N}]+", " ").strip();
    }

    /** A cached answer to this text with the model that gave it, or null. */
    public Map.Entry<TriageAnswer, String> get(String key, long now) {
        Entry e = entries.get(key);
        if (e == null || now - e.storedAt() > windowMillis) {
            if (e != null) {
                entries.remove(key);
            }
            misses++;
            return null;
        }
        hits++;
        return Map.entry(e.answer(), e.model());
    }

    public void put(String key, TriageAnswer answer, String model, long now) {
        if (!key.isEmpty()) {
            entries.put(key, new Entry(answer, model == null ? "" : model, now));
        }
    }

    public long hits() {
        return hits;
    }

    public long misses() {
        return misses;
    }

    public int size() {
        return entries.size();
    }
}
