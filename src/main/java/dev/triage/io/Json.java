package dev.triage.io;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;

/** The one shared, thread-safe JSON mapper and small helpers for the wire formats. */
public final class Json {

    public static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * For untrusted JSON (tickets, customer records, the model's answers): a key that appears twice
     * is an error, not "the last one wins" (two readers of one record must not see two records).
     * Read from a {@code String}, never from bytes: Jackson would detect UTF-16 or UTF-32 there,
     * while the contract is UTF-8.
     */
    public static final ObjectReader STRICT =
            MAPPER.reader().with(StreamReadFeature.STRICT_DUPLICATE_DETECTION);

    private Json() {}

    /**
     * Untrusted text for a log line: control characters (CR and LF above all, which would forge log
     * lines), DEL and the Unicode line separators escaped as a backslash, u and four hex digits,
     * and at most {@code 500} characters.
     */
    public static String forLog(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(Math.min(text.length(), 520));
        for (int i = 0; i < text.length() && out.length() < 500; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f || c == (char) 0x2028 || c == (char) 0x2029) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (out.length() >= 500 && text.length() > 500) {
            out.append("...");
        }
        return out.toString();
    }

    /** Whether {@code text} has a control character or a lone surrogate (not valid in an id). */
    public static boolean hasControlOrLoneSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                return true;
            }
        }
        return hasLoneSurrogate(text);
    }

    /** Whether {@code text} has a lone surrogate, which UTF-8 cannot encode. */
    public static boolean hasLoneSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return true;
            }
            if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static String isoInstant(long epochMillis) {
        return Instant.ofEpochMilli(epochMillis).toString();
    }

    /**
     * An upper bound of the UTF-8 bytes that {@code s} takes inside a JSON string, escaping
     * included: a control character becomes six bytes (backslash, u, four hex digits), a quote or
     * backslash two. Sizes must be measured like this, not in chars: escaping can grow a text
     * six-fold.
     */
    public static long escapedSize(String s) {
        long size = 0;
        for (int i = 0; i < s.length(); i++) {
            size += escapedSize(s.charAt(i));
        }
        return size;
    }

    /**
     * The longest prefix of {@code s} whose {@link #escapedSize} is at most {@code maxBytes} (empty
     * when {@code maxBytes} is not positive); never splits a surrogate pair.
     */
    public static String prefixWithin(String s, long maxBytes) {
        long size = 0;
        int end = 0;
        while (end < s.length()) {
            int next = escapedSize(s.charAt(end));
            if (size + next > maxBytes) {
                break;
            }
            size += next;
            end++;
        }
        if (end == s.length()) {
            return s;
        }
        if (end > 0
                && Character.isHighSurrogate(s.charAt(end - 1))
                && Character.isLowSurrogate(s.charAt(end))) {
            end--;
        }
        return s.substring(0, end);
    }

    /** The longest prefix of {@code s} whose UTF-8 encoding has at most {@code maxBytes}. */
    public static String utf8PrefixWithin(String s, int maxBytes) {
        int size = 0;
        int end = 0;
        while (end < s.length()) {
            char c = s.charAt(end);
            int next;
            int width = 1;
            if (c < 0x80) {
                next = 1;
            } else if (c < 0x800) {
                next = 2;
            } else if (Character.isHighSurrogate(c)
                    && end + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(end + 1))) {
                next = 4;
                width = 2;
            } else {
                next = 3; // a lone surrogate is written as one '?', so 3 is an upper bound
            }
            if (size + next > maxBytes) {
                break;
            }
            size += next;
            end += width;
        }
        return end == s.length() ? s : s.substring(0, end);
    }

    private static int escapedSize(char c) {
        if (c < 0x20) {
            return 6;
        }
        if (c == '"' || c == '\\') {
            return 2;
        }
        if (c < 0x80) {
            return 1;
        }
        if (c < 0x800 || Character.isSurrogate(c)) {
            return 2; // a surrogate pair is four bytes in all; a lone one becomes '?'
        }
        return 3;
    }
}
