package dev.triage.session;

import dev.triage.records.Ticket;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A session's window of recent ticket ids, as kept in state: each entry is {@code '\u0000' +
 * fingerprint (32 hex digits) + id}, so any id, NULs included, is compared whole; entries of the
 * 0.1 layout are bare ids and match any content. Pure functions over the stored list.
 */
final class RecentIds {

    private static final int FP = 32;

    private RecentIds() {}

    /** The fingerprint remembered for the ticket's id; null when the id is new. */
    static String recall(List<String> recent, Ticket ticket) {
        if (recent == null) {
            return null;
        }
        String id = ticket.ticketId();
        for (String entry : recent) {
            if (isEntryFor(entry, id)) {
                return isLegacyEntry(entry) ? fingerprint(ticket) : entry.substring(1, 1 + FP);
            }
        }
        return null;
    }

    /** The window with the ticket added, the oldest entries dropped beyond {@code window}. */
    static List<String> remembered(List<String> recent, Ticket ticket, int window) {
        List<String> updated = recent == null ? new ArrayList<>() : new ArrayList<>(recent);
        updated.add('\u0000' + fingerprint(ticket) + ticket.ticketId());
        while (updated.size() > window) {
            updated.remove(0);
        }
        return updated;
    }

    /** The window without the ticket's id; null when it was not in it (nothing to write). */
    static List<String> forgotten(List<String> recent, Ticket ticket) {
        if (recent == null) {
            return null;
        }
        String id = ticket.ticketId();
        List<String> updated = new ArrayList<>(recent.size());
        for (String entry : recent) {
            if (!isEntryFor(entry, id)) {
                updated.add(entry);
            }
        }
        return updated.size() != recent.size() ? updated : null;
    }

    /** Whether the window entry is the given id's, without copying it (hot path). */
    private static boolean isEntryFor(String entry, String id) {
        if (isLegacyEntry(entry)) {
            return entry.equals(id);
        }
        return entry.length() == 1 + FP + id.length() && entry.startsWith(id, 1 + FP);
    }

    private static boolean isLegacyEntry(String entry) {
        return entry.length() < 1 + FP || entry.charAt(0) != '\u0000';
    }

    /**
     * What makes a re-sent ticket the same ticket: its content, not its source offset. 128 bits of
     * SHA-256, so nobody can make two contents collide on purpose.
     */
    static String fingerprint(Ticket t) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (String part : new String[] {t.customerId(), t.channel(), t.subject(), t.body()}) {
            if (part == null) {
                sha.update((byte) 0);
                continue;
            }
            byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
            sha.update((byte) 1);
            sha.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
            sha.update(bytes);
        }
        sha.update(ByteBuffer.allocate(8).putLong(t.createdAt()).array());
        return HexFormat.of().formatHex(sha.digest(), 0, FP / 2);
    }
}
