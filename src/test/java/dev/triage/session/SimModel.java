package dev.triage.session;

import dev.triage.session.SimSchedule.Mode;
import dev.triage.session.SimSchedule.Outcome;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reference model: what should have happened, from what the world saw (arrivals, calls,
 * outcomes, the provider's modes), never from the operator's own bookkeeping.
 *
 * <p>Each session is a small set of possible histories ("branches"): where the rules leave the
 * operator a choice (did a session that was idle for about the idle timeout expire? does an id
 * reused with other content take a turn number?), the model keeps both and lets the next
 * observation rule one out. An observation that no branch allows is a violation. The model is
 * copied at each checkpoint and rolled back with the operator at a restore.
 */
final class SimModel {

    /** A broken guarantee: a short code (to count them) and what happened. */
    record Violation(String code, String detail) {
        @Override
        public String toString() {
            return code + ": " + detail;
        }
    }

    /** One answer in a conversation: the call that gave it and its size as history. */
    record Answer(int callSerial, int chars) {}

    enum Status {
        PENDING,
        ANSWERED,
        DEAD
    }

    /** A ticket the session accepted and owes exactly one outcome. */
    static final class Accepted {
        final int token;
        final String ticketId;
        final int turn; // -1: accepted without a turn number (an id reused with other content)
        final boolean reuse; // its id was reused with other content
        boolean resent; // a re-send of a dead-lettered ticket
        boolean full; // arrived when its session's queue was at session.max-queued-per-session
        final List<Integer> calls = new ArrayList<>();
        int counted; // transient failures while the provider had its chances
        // ... and failures of calls for which the provider was up at some point between the
        // ticket's previous call going out and this one's end (an answer to another call then is
        // the operator's evidence; an outage may have begun after it): the operator cannot tell
        // those from counted ones
        int countable;
        final Set<Integer> windowUp = new java.util.HashSet<>();
        final Set<Integer> open = new java.util.HashSet<>(); // its calls not ended yet
        boolean upSinceLastSend;
        long chanceMillis; // time since the first call while the provider was up
        Outcome last;

        Accepted(int token, String ticketId, int turn, boolean reuse) {
            this.token = token;
            this.ticketId = ticketId;
            this.turn = turn;
            this.reuse = reuse;
        }

        /** Its calls that ended (the others were lost in a crash). */
        final List<Integer> ended = new ArrayList<>();

        Accepted copy() {
            Accepted a = new Accepted(token, ticketId, turn, reuse);
            a.ended.addAll(ended);
            a.resent = resent;
            a.full = full;
            a.calls.addAll(calls);
            a.counted = counted;
            a.countable = countable;
            a.windowUp.addAll(windowUp);
            a.open.addAll(open);
            a.upSinceLastSend = upSinceLastSend;
            a.chanceMillis = chanceMillis;
            a.last = last;
            return a;
        }
    }

    /** One possible history of a session. */
    static final class Branch {
        final Deque<Accepted> pending = new ArrayDeque<>();
        final List<Answer> answers = new ArrayList<>();
        int nextTurn = 1;

        /**
         * The ids the session remembers, oldest first, each with the content it was accepted with:
         * from acceptance until the ticket is dead-lettered (a dead-lettered ticket may be sent
         * again and is then new). An id reused with other content is not remembered.
         */
        final LinkedHashMap<String, Integer> recent = new LinkedHashMap<>();

        /** Tickets answered, and dead-lettered, in this conversation (for diagnostics). */
        final Set<Integer> answered = new java.util.HashSet<>();

        final Set<Integer> dead = new java.util.HashSet<>();

        long lastAccepted = Long.MIN_VALUE;
        long lastActivity = Long.MIN_VALUE;

        Branch copy() {
            Branch b = new Branch();
            pending.forEach(a -> b.pending.add(a.copy()));
            b.answers.addAll(answers);
            b.nextTurn = nextTurn;
            b.recent.putAll(recent);
            b.answered.addAll(answered);
            b.dead.addAll(dead);
            b.lastAccepted = lastAccepted;
            b.lastActivity = lastActivity;
            return b;
        }

        /** The conversation expired: only the clocks are left. */
        Branch fresh() {
            Branch b = new Branch();
            b.lastAccepted = lastAccepted;
            b.lastActivity = lastActivity;
            return b;
        }

        int position(String id) {
            int pos = 0;
            int found = -1;
            for (String k : recent.keySet()) {
                if (k.equals(id)) {
                    found = pos;
                }
                pos++;
            }
            return found < 0 ? -1 : recent.size() - 1 - found; // 0 = most recent
        }
    }

    private static final Pattern ATTEMPTS = Pattern.compile("after (\\d+) attempt");

    private final SimConfig config;
    private Map<String, List<Branch>> sessions = new TreeMap<>();

    SimModel(SimConfig config) {
        this.config = config;
    }

    SimModel copy() {
        SimModel m = new SimModel(config);
        sessions.forEach(
                (s, bs) ->
                        m.sessions.put(s, new ArrayList<>(bs.stream().map(Branch::copy).toList())));
        return m;
    }

    private List<Branch> branches(String session) {
        return sessions.computeIfAbsent(session, s -> new ArrayList<>(List.of(new Branch())));
    }

    // ------------------------------------------------------------------ observations

    /**
     * Whether the last arrival was taken as a new ticket in every history: only then must the
     * operator have waited for room in the backlog before taking it (a duplicate or a dead letter
     * at arrival adds nothing to wait for).
     */
    boolean lastArrivalTaken() {
        return takenInEvery;
    }

    private boolean takenInEvery;
    private int taken;

    /** A ticket reached the operator (processElement) at {@code now}. */
    void arrive(String session, String ticketId, int token, long now) {
        taken = 0;
        long idle = config.session().idleTimeout().toMillis();
        int window = config.session().dedupeWindow();
        List<Branch> next = new ArrayList<>();
        for (Branch b : branches(session)) {
            List<Branch> lives = new ArrayList<>();
            if (!b.pending.isEmpty() || b.lastAccepted == Long.MIN_VALUE) {
                lives.add(b); // never expires with work in flight or waiting
            } else {
                boolean surelyAlive = now - b.lastAccepted < idle;
                boolean surelyExpired = now - Math.max(b.lastActivity, b.lastAccepted) > idle;
                if (!surelyExpired) {
                    lives.add(b);
                }
                if (!surelyAlive) {
                    lives.add(b.fresh());
                }
            }
            for (Branch l : lives) {
                Integer live = l.recent.get(ticketId);
                int pos = l.position(ticketId);
                // Near the edge of the dedupe window the operator may have forgotten the id.
                boolean nearEdge = pos >= window - 1;
                boolean duplicate = live != null && live == token;
                boolean reuse = live != null && live != token;
                if (!l.pending.isEmpty()
                        && l.pending.size() - 1 >= config.session().maxQueuedPerSession()
                        && (!duplicate || nearEdge)) {
                    // The session's queue is full: a clear outcome at once, no turn, not
                    // remembered. An id reused with other content may get its own clear outcome
                    // instead (duplicate_ticket_id): the operator may check the id first.
                    if (reuse) {
                        next.add(rejectReuse(l.copy(), ticketId, token));
                    }
                    if (duplicate) {
                        next.add(duplicate(l.copy(), now));
                    }
                    Accepted a = new Accepted(token, ticketId, -1, false);
                    a.full = true;
                    l.pending.add(a);
                    next.add(l);
                    continue;
                }
                if (live == null) {
                    Branch b2 = accept(l, ticketId, token, now, true, false);
                    // A re-sent dead-lettered ticket deserves another chance, not silence.
                    b2.pending.peekLast().resent = l.dead.contains(token);
                    next.add(b2);
                } else if (duplicate) {
                    // A duplicate: no outcome, no turn.
                    next.add(duplicate(l.copy(), now));
                    if (nearEdge) {
                        next.add(accept(l.copy(), ticketId, token, now, true, false));
                    }
                } else {
                    // Same id, other content: a clear dead letter at once (duplicate_ticket_id),
                    // no turn; near the edge of the dedupe window the id may be forgotten, and
                    // then it is a new ticket.
                    next.add(rejectReuse(l.copy(), ticketId, token));
                    if (nearEdge) {
                        next.add(accept(l.copy(), ticketId, token, now, true, false));
                    }
                }
            }
        }
        takenInEvery = taken == next.size();
        sessions.put(session, cap(next));
    }

    private static Branch duplicate(Branch b, long now) {
        b.lastActivity = Math.max(b.lastActivity, now);
        return b;
    }

    /** An id reused with other content: owed a dead letter at once, no turn, not remembered. */
    private static Branch rejectReuse(Branch b, String ticketId, int token) {
        b.pending.add(new Accepted(token, ticketId, -1, true));
        return b;
    }

    private Branch accept(
            Branch b, String ticketId, int token, long now, boolean takesTurn, boolean reuse) {
        int turn = takesTurn ? b.nextTurn++ : -1;
        b.pending.add(new Accepted(token, ticketId, turn, reuse));
        if (takesTurn && !reuse) {
            taken++;
        }
        b.recent.remove(ticketId);
        b.recent.put(ticketId, token);
        while (b.recent.size() > config.session().dedupeWindow() + 2) {
            b.recent.remove(b.recent.keySet().iterator().next());
        }
        b.lastAccepted = now;
        b.lastActivity = Math.max(b.lastActivity, now);
        return b;
    }

    private static List<Branch> cap(List<Branch> bs) {
        return bs.size() > 16 ? new ArrayList<>(bs.subList(0, 16)) : bs;
    }

    /** Why a branch does not allow an observation; a soft one still applies it. */
    private record Problem(boolean fatal, String code, String text) {
        static Problem fatal(String code, String text) {
            return new Problem(true, code, text);
        }

        static Problem soft(String code, String text) {
            return new Problem(false, code, text);
        }
    }

    private static String owes(Accepted head) {
        return head == null ? "nothing" : "#c" + head.token + " (" + head.ticketId + ") first";
    }

    /**
     * The operator sent a call for ticket {@code token}; {@code history} are the serials of the
     * calls whose answers the request carried.
     */
    Violation call(
            String session, int token, int serial, List<Integer> history, boolean providerUp) {
        int turns = config.session().historyTurns();
        int maxChars = config.session().historyChars();
        return filter(
                session,
                b -> {
                    Accepted head = b.pending.peekFirst();
                    Problem skipped = skippedHead(head, token);
                    if (skipped != null) {
                        return skipped;
                    }
                    if (head == null || head.token != token) {
                        if (b.answered.contains(token)) {
                            return Problem.fatal(
                                    "duplicate",
                                    "call "
                                            + serial
                                            + " for #c"
                                            + token
                                            + ", a re-sent duplicate of a ticket already answered");
                        }
                        return Problem.fatal(
                                "order",
                                "call "
                                        + serial
                                        + " for #c"
                                        + token
                                        + " while the session owes "
                                        + owes(head));
                    }
                    head.calls.add(serial);
                    head.open.add(serial);
                    if (providerUp || head.upSinceLastSend) {
                        head.windowUp.add(serial);
                    }
                    head.upSinceLastSend = providerUp;
                    List<Integer> expected = expectedHistory(b.answers, turns, maxChars);
                    if (!expected.equals(history)) {
                        return Problem.soft(
                                "history",
                                "call "
                                        + serial
                                        + " for "
                                        + head.ticketId
                                        + " #c"
                                        + token
                                        + " (turn "
                                        + head.turn
                                        + ") carried the answers of calls "
                                        + history
                                        + " but the conversation's last answers are "
                                        + expected
                                        + " (all: "
                                        + b.answers.stream().map(Answer::callSerial).toList()
                                        + ")");
                    }
                    return null;
                });
    }

    /** The longest suffix of the answers within history-turns and history-chars. */
    static List<Integer> expectedHistory(List<Answer> answers, int turns, int maxChars) {
        int chars = 0;
        int from = answers.size();
        while (from > 0
                && answers.size() - from < turns
                && chars + answers.get(from - 1).chars() <= maxChars) {
            from--;
            chars += answers.get(from).chars();
        }
        return answers.subList(from, answers.size()).stream().map(Answer::callSerial).toList();
    }

    /**
     * A call of ticket {@code token} ended with {@code outcome} while the provider was {@code
     * mode}.
     */
    void callEnded(String session, int token, int serial, Outcome outcome, Mode mode) {
        for (Branch b : branches(session)) {
            for (Accepted a : b.pending) {
                if (a.token == token && a.open.contains(serial)) {
                    a.last = outcome;
                    a.ended.add(serial);
                    a.open.remove(serial);
                    boolean transientFailure =
                            outcome == Outcome.SERVER_ERROR
                                    || outcome == Outcome.TIMEOUT
                                    || outcome == Outcome.DROPPED;
                    // An unusable answer also used one of the provider's chances: it was up.
                    if ((transientFailure && mode != Mode.OUTAGE) || outcome == Outcome.BAD_JSON) {
                        a.counted++;
                    }
                    if ((transientFailure && (mode != Mode.OUTAGE || a.windowUp.contains(serial)))
                            || outcome == Outcome.BAD_JSON) {
                        a.countable++;
                    }
                }
            }
        }
    }

    /** Time passed; the provider had its chances unless it was down or the job was. */
    void timePassed(long millis, boolean providerUp, boolean jobRunning) {
        if (!providerUp || !jobRunning) {
            return;
        }
        for (List<Branch> bs : sessions.values()) {
            for (Branch b : bs) {
                for (Accepted a : b.pending) {
                    if (!a.calls.isEmpty()) {
                        a.chanceMillis += millis;
                        a.upSinceLastSend = true;
                        a.windowUp.addAll(a.open);
                    }
                }
            }
        }
    }

    /** A result for ticket {@code token}, answered by call {@code serial}. */
    Violation result(
            String session, int token, int serial, int turn, int attempts, int chars, long now) {
        return filter(
                session,
                b -> {
                    Accepted head = b.pending.peekFirst();
                    Problem skipped = skippedHead(head, token);
                    if (skipped != null) {
                        return skipped;
                    }
                    if (head == null || head.token != token) {
                        return Problem.fatal(
                                "outcome",
                                "result for #c" + token + " while the session owes " + owes(head));
                    }
                    if (!head.calls.contains(serial)) {
                        return Problem.fatal(
                                "outcome",
                                "result for #c"
                                        + token
                                        + " from call "
                                        + serial
                                        + ", not one of its calls "
                                        + head.calls);
                    }
                    if (head.turn < 0) {
                        return Problem.fatal(
                                "turn", "result for #c" + token + " with turn " + turn);
                    }
                    b.pending.removeFirst();
                    b.answers.add(new Answer(serial, chars));
                    setStatus(b, head, Status.ANSWERED);
                    b.lastActivity = Math.max(b.lastActivity, now);
                    if (head.turn != turn) {
                        return Problem.soft(
                                "turn",
                                "result for "
                                        + head.ticketId
                                        + " #c"
                                        + token
                                        + " has turn "
                                        + turn
                                        + ", expected "
                                        + head.turn);
                    }
                    if (attempts != head.calls.size()) {
                        return Problem.soft(
                                "attempts",
                                "result for "
                                        + head.ticketId
                                        + " #c"
                                        + token
                                        + " says "
                                        + attempts
                                        + " attempts; the provider saw "
                                        + head.calls.size()
                                        + " calls "
                                        + head.calls);
                    }
                    return null;
                });
    }

    /** A dead letter for ticket {@code token}. */
    Violation deadLetter(String session, int token, String reason, String detail, long now) {
        int maxAttempts = config.gateway().maxAttempts();
        long deadline = config.gateway().ticketDeadline().toMillis();
        return filter(
                session,
                b -> {
                    Accepted head = b.pending.peekFirst();
                    Accepted reused = null;
                    for (Accepted a : b.pending) {
                        if (a.token == token && a.full && a.calls.isEmpty()) {
                            if (!reason.equals("session_backlog_full")) {
                                return wrongReason(
                                        reason,
                                        token,
                                        "that came when its session's queue was full");
                            }
                            b.pending.remove(a);
                            return null;
                        }
                        if (a.token == token && a.reuse && a.calls.isEmpty()) {
                            reused = a;
                        }
                    }
                    if (reused != null) {
                        if (reused.turn < 0 && !reason.equals("duplicate_ticket_id")) {
                            return wrongReason(reason, token, "(an id reused with other content)");
                        }
                        // An id reused with other content may get its clear outcome at once.
                        b.pending.remove(reused);
                        setStatus(b, reused, Status.DEAD);
                        return null;
                    }
                    Problem skipped = skippedHead(head, token);
                    if (skipped != null) {
                        return skipped;
                    }
                    if (head == null || head.token != token) {
                        return Problem.fatal(
                                "outcome",
                                "dead letter ("
                                        + reason
                                        + ") for #c"
                                        + token
                                        + " while the session owes "
                                        + owes(head));
                    }
                    b.pending.removeFirst();
                    setStatus(b, head, Status.DEAD);
                    b.lastActivity = Math.max(b.lastActivity, now);
                    String what =
                            "dead letter "
                                    + reason
                                    + " for "
                                    + head.ticketId
                                    + " #c"
                                    + token
                                    + " ("
                                    + detail
                                    + "): ";
                    switch (reason) {
                        case "llm_unavailable" -> {
                            if (head.countable < maxAttempts
                                    && !(head.countable >= 1 && head.chanceMillis > deadline)) {
                                return Problem.soft(
                                        "dead-letter",
                                        what
                                                + "only "
                                                + head.counted
                                                + " counted failure(s) ("
                                                + head.countable
                                                + " with an outage's edge) of "
                                                + maxAttempts
                                                + " and "
                                                + head.chanceMillis
                                                + " ms of the provider's chances (deadline "
                                                + deadline
                                                + " ms); last outcome "
                                                + head.last
                                                + (head.calls.size() > head.ended.size()
                                                        ? "; "
                                                                + (head.calls.size()
                                                                        - head.ended.size())
                                                                + " call(s) lost in a crash"
                                                        : ""));
                            }
                        }
                        case "llm_rejected" -> {
                            if (head.last != Outcome.BAD_REQUEST) {
                                return Problem.soft(
                                        "dead-letter-rejected",
                                        what
                                                + "rejected after "
                                                + head.last
                                                + ": only a 400 is this ticket's fault");
                            }
                        }
                        case "llm_invalid_output" -> {
                            if (head.last != Outcome.BAD_JSON) {
                                return Problem.soft(
                                        "invalid-output",
                                        what + "the last answer was " + head.last);
                            }
                        }
                        default -> {
                            return Problem.soft("outcome", what + "unexpected reason");
                        }
                    }
                    Matcher m = ATTEMPTS.matcher(detail == null ? "" : detail);
                    if (m.find() && Integer.parseInt(m.group(1)) != head.calls.size()) {
                        return Problem.soft(
                                "attempts",
                                what + "the provider saw " + head.calls.size() + " calls");
                    }
                    return null;
                });
    }

    /**
     * The session's oldest open ticket, owed an outcome at arrival (a reused id, a re-sent dead
     * letter, a full queue), got none while the session went on with {@code token}; else null.
     */
    private static Problem skippedHead(Accepted head, int token) {
        if (head == null || head.token == token || !head.calls.isEmpty()) {
            return null;
        }
        if (head.reuse) {
            return Problem.fatal("reused-id", vanished(head, token));
        }
        if (head.resent) {
            return Problem.fatal("resent-dead-letter", vanished(head, token));
        }
        if (head.full) {
            return Problem.fatal(
                    "session-full",
                    head.ticketId
                            + " #c"
                            + head.token
                            + " came when its session's queue was full and got no"
                            + " session_backlog_full dead letter");
        }
        return null;
    }

    private static Problem wrongReason(String reason, int token, String why) {
        return Problem.fatal("outcome", "dead letter " + reason + " for #c" + token + " " + why);
    }

    private static String vanished(Accepted head, int next) {
        return head.ticketId
                + " #c"
                + head.token
                + (head.reuse
                        ? " (an id reused with other content)"
                        : " (re-sent after its dead letter)")
                + " got no result or dead letter: the session went on with #c"
                + next;
    }

    private static void setStatus(Branch b, Accepted a, Status s) {
        if (s == Status.ANSWERED) {
            b.answered.add(a.token);
        } else if (s == Status.DEAD) {
            b.dead.add(a.token);
            // A dead-lettered ticket's id is forgotten: sent again, it is a new ticket.
            b.recent.remove(a.ticketId, a.token);
        }
    }

    /**
     * Keeps the branches that allow the observation. When none does, the violation is reported and
     * the branches with only a soft problem carry on (the observation applied), so that a run told
     * to go past that kind of violation stays consistent.
     */
    private Violation filter(String session, Function<Branch, Problem> check) {
        List<Branch> ok = new ArrayList<>();
        List<Branch> soft = new ArrayList<>();
        Problem first = null;
        Problem firstSoft = null;
        for (Branch b : branches(session)) {
            Branch c = b.copy();
            Problem p = check.apply(c);
            if (p == null) {
                ok.add(c);
                continue;
            }
            first = first == null ? p : first;
            if (!p.fatal()) {
                soft.add(c);
                firstSoft = firstSoft == null ? p : firstSoft;
            }
        }
        if (!ok.isEmpty()) {
            sessions.put(session, ok);
            return null;
        }
        if (!soft.isEmpty()) {
            sessions.put(session, soft);
            return new Violation(firstSoft.code(), session + ": " + firstSoft.text());
        }
        return new Violation(first.code(), session + ": " + first.text());
    }

    /**
     * Accepted-but-unsent tickets of the sessions {@code owned} selects (the fewest any branch
     * allows).
     */
    int unsent(Predicate<String> owned, Set<Integer> outstanding) {
        int n = 0;
        for (var e : sessions.entrySet()) {
            if (!owned.test(e.getKey())) {
                continue;
            }
            int min = Integer.MAX_VALUE;
            for (Branch b : e.getValue()) {
                int c = 0;
                for (Accepted a : b.pending) {
                    if (!outstanding.contains(a.token)) {
                        c++;
                    }
                }
                min = Math.min(min, c);
            }
            n += min;
        }
        return n;
    }

    /** Whether any session may still owe an outcome. */
    boolean anyPending() {
        for (List<Branch> bs : sessions.values()) {
            for (Branch b : bs) {
                if (!b.pending.isEmpty()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether some session owes an outcome in every history the model allows. */
    boolean surelyPending() {
        for (List<Branch> bs : sessions.values()) {
            boolean all = true;
            for (Branch b : bs) {
                all &= !b.pending.isEmpty();
            }
            if (all) {
                return true;
            }
        }
        return false;
    }

    /** At the end: every accepted ticket got its outcome (in some allowed history). */
    Violation finish() {
        for (var e : sessions.entrySet()) {
            Branch done = null;
            for (Branch b : e.getValue()) {
                if (b.pending.isEmpty()) {
                    done = b;
                }
            }
            if (done == null) {
                Branch b = e.getValue().get(0);
                boolean reused = b.pending.stream().allMatch(a -> a.reuse);
                boolean resent = b.pending.stream().allMatch(a -> a.resent);
                boolean full = b.pending.stream().allMatch(a -> a.full);
                return new Violation(
                        reused
                                ? "reused-id"
                                : resent
                                        ? "resent-dead-letter"
                                        : full ? "session-full" : "missing-outcome",
                        e.getKey()
                                + ": no result or dead letter for "
                                + b.pending.stream()
                                        .map(
                                                a ->
                                                        a.ticketId
                                                                + " #c"
                                                                + a.token
                                                                + " ("
                                                                + a.calls.size()
                                                                + " calls)")
                                        .toList());
            }
            e.setValue(new ArrayList<>(List.of(done)));
        }
        return null;
    }

    /** Sessions with at least one possible history, for diagnostics. */
    Map<String, Integer> branchCounts() {
        Map<String, Integer> m = new HashMap<>();
        sessions.forEach((k, v) -> m.put(k, v.size()));
        return m;
    }
}
