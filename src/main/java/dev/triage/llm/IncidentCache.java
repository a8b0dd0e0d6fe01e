package dev.triage.llm;

import dev.triage.records.Tenants;
import dev.triage.records.Ticket;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Answers to first tickets by their normalized text, for incident floods: when hundreds of sessions
 * open with "Is the site down??", one call answers them all. Entries expire after the window; the
 * least recently used go first beyond the capacity. In memory, per subtask, task thread only: it is
 * an optimisation, and a restart simply starts it empty.
 *
 * <p>Answers are shared only within a tenant ({@link #key}), and an answer that names its customer
 * (their name or customer id in the summary or the draft reply, e.g. "Dear Ada") is never stored
 * ({@link #namesCustomer}): it would greet the next customer with someone else's name.
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

    /** The cache key of a first ticket: its normalized text, within its tenant. */
    public static String key(Ticket t) {
        String text = normalize(t.subject(), t.body());
        return text.isEmpty() ? text : Tenants.key(t.tenantId(), text);
    }

    /**
     * Whether the answer names the ticket's customer: their customer id, or a word of two or more
     * letters of their profile's name, in the summary or the draft, in any case and accent. In
     * scripts written with spaces a name word must stand as a word ("Li" in "Dear Li Wu", not in
     * "light"); in those written without (Han, kana, Thai...) anywhere ("王小芳" in "王小芳您好"). Errs
     * towards "names": such an answer is only not cached.
     */
    public static boolean namesCustomer(TriageAnswer answer, Ticket t) {
        String text = " " + normalize(answer.summary(), answer.draftReply()) + " ";
        List<String> names = new ArrayList<>();
        names.add(t.customerId());
        if (t.customer() != null && t.customer().profile() != null) {
            names.add(t.customer().profile().customerId());
            String name = t.customer().profile().name();
            if (name != null) {
                names.addAll(List.of(normalize(name, "").split(" ")));
            }
        }
        for (String name : names) {
            String n = name == null ? "" : normalize(name, "");
            if (n.codePointCount(0, n.length()) < 2) {
                continue;
            }
            if (writtenWithoutSpaces(n) ? text.contains(n) : text.contains(" " + n + " ")) {
                return true;
            }
        }
        return false;
    }

    private static boolean writtenWithoutSpaces(String word) {
        return word.codePoints()
                .anyMatch(
                        c -> {
                            Character.UnicodeScript s = Character.UnicodeScript.of(c);
                            return s == Character.UnicodeScript.HAN
                                    || s == Character.UnicodeScript.HIRAGANA
                                    || s == Character.UnicodeScript.KATAKANA
                                    || s == Character.UnicodeScript.THAI
                                    || s == Character.UnicodeScript.LAO
                                    || s == Character.UnicodeScript.KHMER
                                    || s == Character.UnicodeScript.MYANMAR
                                    || s == Character.UnicodeScript.TIBETAN;
                        });
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
