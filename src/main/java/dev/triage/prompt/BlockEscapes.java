package dev.triage.prompt;

import dev.triage.io.Json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * The escapes that keep text from a customer or a model inside a {@link TicketBlock}: JSON on one
 * line in which markup, invisible, line-breaking and lookalike characters are all {@code \\uXXXX},
 * so nothing in it can end a block, start a line or hide.
 */
public final class BlockEscapes {

    private static final JsonFactory FACTORY = Json.MAPPER.getFactory().copy();

    static {
        FACTORY.setCharacterEscapes(new DataEscapes());
    }

    private BlockEscapes() {}

    /**
     * JSON on one line with the block's escapes: for earlier answers replayed as assistant turns,
     * and for any other text from a model or a customer that a prompt must carry.
     */
    public static String escapedJson(JsonNode node) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            Json.MAPPER.writeTree(g, node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** A JSON string literal of {@code text}, with the block's escapes. */
    public static String quoted(String text) {
        return escapedJson(Json.MAPPER.getNodeFactory().textNode(text));
    }

    /**
     * True when {@code text} is one JSON object and nothing else, no key twice: checked token by
     * token, without building a tree.
     */
    public static boolean isJsonObject(String text) {
        try (JsonParser p = Json.MAPPER.getFactory().createParser(text)) {
            p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            p.skipChildren();
            return p.nextToken() == null;
        } catch (IOException e) {
            return false;
        }
    }

    /** True when no character of {@code text} is one the block writes as an escape. */
    public static boolean hasNothingToEscape(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (escaped(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * True for a character written as {@code \\uXXXX} in a block, besides what JSON itself escapes:
     * markup characters, invisible and direction-changing characters, line separators, lookalikes
     * of the angle brackets, and surrogates (so Unicode tag characters and lone surrogates show as
     * escapes too).
     */
    static boolean escaped(char ch) {
        if (ch == '<' || ch == '>' || ch == '&' || ch < 0x20 || ch == 0x7F) {
            return true;
        }
        if (ch < 0x80) {
            return false;
        }
        switch (Character.getType(ch)) {
            case Character.CONTROL,
                    Character.FORMAT,
                    Character.LINE_SEPARATOR,
                    Character.PARAGRAPH_SEPARATOR,
                    Character.PRIVATE_USE,
                    Character.SURROGATE,
                    Character.UNASSIGNED -> {
                return true;
            }
            default -> {
                // fall through to the lookalikes
            }
        }
        return (ch >= 0xFE00 && ch <= 0xFE0F) // variation selectors
                || ch == 0x034F // combining grapheme joiner
                || ch == 0x115F
                || ch == 0x1160
                || ch == 0x3164
                || ch == 0xFFA0 // Hangul fillers, invisible
                || ch == 0xFF1C
                || ch == 0xFF1E // fullwidth < >
                || ch == 0xFE64
                || ch == 0xFE65 // small < >
                || ch == 0x2039
                || ch == 0x203A // single angle quotation marks
                || ch == 0x2329
                || ch == 0x232A
                || ch == 0x3008
                || ch == 0x3009
                || ch == 0x27E8
                || ch == 0x27E9 // angle brackets
                || ch == 0x02C2
                || ch == 0x02C3 // modifier arrowheads
                || ch == 0x1438
                || ch == 0x1433 // Canadian syllabics lookalikes
                || ch == 0xFF06; // fullwidth &
    }

    /** Jackson's escapes for a block: see {@link #escaped(char)}. */
    private static final class DataEscapes extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private final int[] ascii = CharacterEscapes.standardAsciiEscapesForJSON();

        DataEscapes() {
            for (char c = 0; c < 128; c++) {
                if (escaped(c) && ascii[c] == 0) {
                    ascii[c] = CharacterEscapes.ESCAPE_STANDARD;
                }
            }
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            if (ch < 0 || ch > 0xFFFF || !escaped((char) ch)) {
                return null;
            }
            return new SerializedString(String.format("\\u%04x", ch));
        }
    }
}
