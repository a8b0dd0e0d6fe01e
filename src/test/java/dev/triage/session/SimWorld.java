package dev.triage.session;

import dev.triage.llm.ChatMessage;
import dev.triage.llm.LlmException;
import dev.triage.llm.LlmReply;
import dev.triage.llm.TriageAnswer;
import dev.triage.prompt.TicketBlock;
import dev.triage.records.DeadLetter;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;
import dev.triage.session.SimModel.Violation;
import dev.triage.session.SimSchedule.Mode;
import dev.triage.session.SimSchedule.Outcome;
import dev.triage.session.SimSchedule.Step;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The simulated world around the session operator: the source (an input log that is replayed from
 * the last checkpoint after a restore), one keyed test harness per subtask, the provider (whose
 * calls complete when the schedule says, in any order), one simulated clock, checkpoints that
 * commit at once, and crashes that throw away everything since the last one. Everything runs on the
 * test thread; nothing depends on real time, except the waits of an operator that still uses the
 * wall clock (see {@link SimConfig#WALL_CLOCK_OPERATOR}).
 */
final class SimWorld {

    private static final Pattern CONTENT = Pattern.compile("#c(\\d+)");

    /**
     * Kinds of violation to count and go past ({@code -Dsim.skip=backlog,turn}), to look further.
     */
    static final Set<String> SKIP =
            Set.of(System.getProperty("sim.skip", "").split(",")).stream()
                    .filter(x -> !x.isBlank())
                    .collect(java.util.stream.Collectors.toSet());

    private static final Pattern ANSWER = Pattern.compile("answer A(\\d+)");

    /** {@code -Dsim.trace=true}: print every call, outcome and dead letter of a replay. */
    private static final boolean TRACE = Boolean.getBoolean("sim.trace");

    private void trace(String what) {
        if (TRACE) {
            System.out.println(
                    "      t=" + (now - 1_000_000_000L) + " " + currentMode() + " " + what);
        }
    }

    /** What one schedule did: the first broken guarantee (or none) and some numbers. */
    record Result(Violation violation, int step, Map<String, Long> stats) {
        boolean failed() {
            return violation != null;
        }
    }

    /** Unwinds the world once a guarantee is broken. */
    private static final class Abort extends RuntimeException {
        Abort() {
            super(null, null, false, false);
        }
    }

    private record CallInfo(int serial, int token, String session, int textChars) {}

    private record Checkpoint(
            long id,
            List<OperatorSubtaskState> states,
            int parallelism,
            int inputs,
            SimModel model) {}

    private static final class Sub {
        final int index;
        final KeyedOneInputStreamOperatorTestHarness<String, Ticket, TriageResult> harness;

        Sub(int index, KeyedOneInputStreamOperatorTestHarness<String, Ticket, TriageResult> h) {
            this.index = index;
            this.harness = h;
        }
    }

    private final SimSchedule schedule;
    private final SimConfig config;
    private final List<Ticket> inputs = new ArrayList<>();
    private final Map<Integer, String> sessionOfToken = new HashMap<>();
    private final Map<Integer, Long> createdAtOfToken = new HashMap<>();
    private final Map<Integer, CallInfo> calls = new HashMap<>();
    private final List<SimLlmClient.Call> outstanding = new ArrayList<>();
    private final Map<String, Long> stats = new HashMap<>();

    private SimModel model;
    private List<Sub> subs = new ArrayList<>();
    private int parallelism;
    private Checkpoint last;
    private long checkpointIds;
    private int serials;
    private int callsAtLastCheckpoint;
    private long now = 1_000_000_000L;
    private Mode mode = Mode.HEALTHY;
    private long modeUntil;
    private int rolls;

    private Violation violation;
    private int step = -1;

    /** The input being processed while processElement has not returned, or -1. */
    private int blockedInput = -1;

    private long blockedSince;
    private long blockedSinceWall;

    SimWorld(SimSchedule schedule) {
        this.schedule = schedule;
        this.config = schedule.config();
        this.model = new SimModel(config);
        this.parallelism = config.parallelism();
    }

    Result run() {
        try {
            subs = start(parallelism, null);
            List<Step> steps = schedule.steps();
            for (step = 0; step < steps.size(); step++) {
                apply(steps.get(step));
                settle();
            }
            step = steps.size();
            heal();
        } catch (Abort abort) {
            // the violation is recorded
        } catch (Throwable t) {
            record("threw", t.toString() + " at " + where(t));
        } finally {
            crashAll();
        }
        return new Result(violation, step, stats);
    }

    // ------------------------------------------------------------------ steps

    private void apply(Step s) throws Exception {
        if (s instanceof SimSchedule.Arrive a) {
            String body = "Customer issue #c" + a.content() + " " + "x".repeat(a.filler());
            Ticket t =
                    new Ticket(
                            a.ticketId(),
                            a.session(),
                            "C-1",
                            "email",
                            null,
                            body,
                            // A re-send is the same record: same content, same created_at.
                            createdAtOfToken.computeIfAbsent(a.content(), k -> now),
                            "tickets",
                            0,
                            inputs.size());
            inputs.add(t);
            sessionOfToken.put(a.content(), a.session());
            feed(inputs.size() - 1);
        } else if (s instanceof SimSchedule.Complete c) {
            if (!outstanding.isEmpty()) {
                // Calls take time: a few to a few hundred ms pass first, so that other calls can
                // end while one is out (the gateway counts a failure only then).
                advanceTo(now + 1 + c.pick() % 250, true);
            }
            if (!outstanding.isEmpty()) {
                SimLlmClient.Call call = outstanding.get(c.pick() % outstanding.size());
                complete(call, effective(c.outcome(), c.roll()), c.adviceMillis());
            }
        } else if (s instanceof SimSchedule.Provider p) {
            mode = p.mode();
            modeUntil = now + p.millis();
        } else if (s instanceof SimSchedule.Tick t) {
            advanceTo(now + t.millis(), true);
        } else if (s instanceof SimSchedule.Jump j) {
            advanceTo(now + j.millis(), true);
        } else if (s instanceof SimSchedule.Snapshot) {
            checkpoint();
        } else if (s instanceof SimSchedule.Restore r) {
            restore(r.parallelism(), r.downtimeMillis());
        }
    }

    private void feed(int index) throws Exception {
        Ticket t = inputs.get(index);
        int token = token(t.body());
        model.arrive(t.sessionId(), t.ticketId(), token, now);
        boolean taken = model.lastArrivalTaken();
        Sub sub = owner(t.sessionId());
        blockedInput = index;
        blockedSince = now;
        blockedSinceWall = System.currentTimeMillis();
        arm(sub, index);
        try {
            sub.harness.processElement(new StreamRecord<>(t, t.createdAt()));
        } catch (Abort a) {
            throw a;
        } catch (Throwable e) {
            record("threw", "processElement(" + t.ticketId() + "): " + e + " at " + where(e));
        } finally {
            blockedInput = -1;
        }
        check();
        collect();
        inc("inputsProcessed");
        long blocked = now - blockedSince;
        stats.merge("maxInputBlockedMs", blocked, Math::max);
        int unsent = model.unsent(s -> owner(s) == sub, outstandingTokens());
        int bound = config.session().maxBacklog() + 1;
        stats.merge("maxUnsent", (long) unsent, Math::max);
        if (unsent > bound && taken) {
            record(
                    "backlog",
                    "subtask "
                            + sub.index
                            + " took "
                            + t.ticketId()
                            + " with "
                            + unsent
                            + " accepted-but-unsent tickets (max-backlog "
                            + config.session().maxBacklog()
                            + " + 1)");
        }
    }

    /** While processElement waits (yields), the world goes on: this mail moves it one step. */
    private void arm(Sub sub, int input) {
        sub.harness
                .getTaskMailbox()
                .put(
                        new Mail(
                                () -> whileBlocked(sub, input),
                                TaskMailbox.MAX_PRIORITY,
                                "sim: the world goes on"));
    }

    private void whileBlocked(Sub sub, int input) throws Exception {
        if (blockedInput != input || violation != null) {
            if (violation != null && blockedInput == input) {
                throw new Abort();
            }
            return;
        }
        inc("blockedRounds");
        if (now - blockedSince > config.transactionTimeoutMillis()) {
            // Checkpoints fail meanwhile (tolerated); past the transaction timeout the broker
            // aborts the open transaction and the job must fail over (docs/design.md, "Outages").
            record(
                    "blocked-input",
                    "processElement("
                            + inputs.get(input).ticketId()
                            + ") has not returned for "
                            + (now - blockedSince)
                            + " ms: no checkpoint barrier can pass, and the open transaction"
                            + " outlives its timeout ("
                            + config.transactionTimeoutMillis()
                            + " ms): the job fails over");
            throw new Abort();
        }
        if (System.currentTimeMillis() - blockedSinceWall > 5_000) {
            record(
                    "blocked-input",
                    "processElement(" + inputs.get(input).ticketId() + ") waited 5 s of real time");
            throw new Abort();
        }
        drainAll();
        if (!outstanding.isEmpty()) {
            complete(outstanding.get(0), effective(Outcome.SUCCESS, nextRoll()), -1);
        } else {
            advanceTo(nextInterestingTime(now + 1_000), true);
            if (SimConfig.WALL_CLOCK_OPERATOR) {
                Thread.sleep(1);
            }
        }
        check();
        arm(sub, input);
    }

    private void checkpoint() throws Exception {
        drainAll();
        collect();
        List<OperatorSubtaskState> states = new ArrayList<>();
        long id = ++checkpointIds;
        for (Sub s : subs) {
            try {
                states.add(s.harness.snapshot(id, now));
            } catch (Throwable e) {
                record("threw", "snapshot: " + e + " at " + where(e));
                throw new Abort();
            }
        }
        last = new Checkpoint(id, states, parallelism, inputs.size(), model.copy());
        callsAtLastCheckpoint = serials;
        inc("checkpoints");
    }

    private void restore(int newParallelism, long downtime) throws Exception {
        crashAll();
        stats.merge("repaidCalls", (long) (serials - callsAtLastCheckpoint), Long::sum);
        callsAtLastCheckpoint = serials;
        outstanding.clear();
        // The job is down: time passes without it (and without the provider's chances counting).
        long until = now + downtime;
        model.timePassed(downtime, false, false);
        now = until;
        if (modeUntil <= now) {
            mode = Mode.HEALTHY;
        }
        model = last == null ? new SimModel(config) : last.model().copy();
        parallelism = newParallelism;
        subs = start(newParallelism, last);
        inc("restores");
        if (newParallelism != (last == null ? config.parallelism() : last.parallelism())) {
            inc("rescales");
        }
        // The source replays everything after the checkpoint, each record to its key's owner.
        for (int i = last == null ? 0 : last.inputs(); i < inputs.size(); i++) {
            feed(i);
            settle();
        }
    }

    private List<Sub> start(int p, Checkpoint from) throws Exception {
        OperatorSubtaskState packed = null;
        if (from != null) {
            packed =
                    AbstractStreamOperatorTestHarness.repackageState(
                            from.states().toArray(new OperatorSubtaskState[0]));
        }
        List<Sub> started = new ArrayList<>();
        for (int i = 0; i < p; i++) {
            var factory =
                    new SessionTriageOperatorFactory(
                            config.session(),
                            config.gateway(),
                            SimConfig.PROMPTS,
                            SimLlmClient.factory(i, this::onCall));
            var h =
                    new KeyedOneInputStreamOperatorTestHarness<>(
                            factory,
                            Ticket::sessionId,
                            Types.STRING,
                            config.maxParallelism(),
                            p,
                            i);
            h.setProcessingTime(now);
            h.setStateTtlProcessingTime(now);
            Sub sub = new Sub(i, h);
            started.add(sub);
            subs = started; // calls made while opening are routed by the new layout
            try {
                if (packed != null) {
                    h.initializeState(
                            AbstractStreamOperatorTestHarness.repartitionOperatorState(
                                    packed, config.maxParallelism(), from.parallelism(), p, i));
                }
                h.open();
            } catch (Abort a) {
                throw a;
            } catch (Throwable e) {
                record("threw", "restore/open: " + e + " at " + where(e));
                throw new Abort();
            }
        }
        return started;
    }

    private void crashAll() {
        for (Sub s : subs) {
            try {
                s.harness.getOperator().close();
            } catch (Throwable ignored) {
                // a crash: whatever the operator does on close does not matter
            }
            try {
                s.harness.getProcessingTimeService().shutdownService();
                s.harness.getEnvironment().close();
            } catch (Throwable ignored) {
                // best effort
            }
        }
        subs = new ArrayList<>();
    }

    // ------------------------------------------------------------------ the provider

    private SimLlmClient.Call onCall(
            int subtask, List<ChatMessage> messages, CompletableFuture<LlmReply> future) {
        collect(); // outcomes emitted before this call come first
        SimLlmClient.Call call = new SimLlmClient.Call(++serials, subtask, messages, future, now);
        inc("calls");
        int current = -1;
        for (int i = messages.size() - 1; i > 0; i--) {
            ChatMessage m = messages.get(i);
            if (m.role().equals("user") && TicketBlock.isBlock(m.content())) {
                current = i;
                break;
            }
        }
        if (current < 0) {
            record("history", "call " + call.serial + " carries no ticket");
            return call;
        }
        int token = token(messages.get(current).content());
        String session = sessionOfToken.get(token);
        List<Integer> history = new ArrayList<>();
        for (int i = 1; i < current; i++) {
            ChatMessage m = messages.get(i);
            if (m.role().equals("assistant")) {
                Matcher am = ANSWER.matcher(m.content());
                history.add(am.find() ? Integer.parseInt(am.group(1)) : -1);
            }
        }
        calls.put(
                call.serial,
                new CallInfo(
                        call.serial, token, session, messages.get(current).content().length()));
        outstanding.add(call);
        trace("call " + call.serial + " for #c" + token + " (" + session + ")");
        Violation v = model.call(session, token, call.serial, history, providerUp());
        if (v != null) {
            record(v);
        }
        return call;
    }

    private Outcome effective(Outcome planned, int roll) {
        Mode m = now < modeUntil ? mode : Mode.HEALTHY;
        Outcome failure =
                switch (roll % 3) {
                    case 0 -> Outcome.SERVER_ERROR;
                    case 1 -> Outcome.TIMEOUT;
                    default -> Outcome.DROPPED;
                };
        return switch (m) {
            case HEALTHY -> planned;
            case OUTAGE -> failure;
            case FLAKY -> roll < 50 ? failure : planned;
            case UNAUTHORIZED -> Outcome.UNAUTHORIZED;
            case QUOTA -> Outcome.QUOTA;
        };
    }

    private Mode currentMode() {
        return now < modeUntil ? mode : Mode.HEALTHY;
    }

    private void complete(SimLlmClient.Call call, Outcome outcome, long advice) throws Exception {
        outstanding.remove(call);
        call.done = true;
        CallInfo info = calls.get(call.serial);
        model.callEnded(info.session(), info.token(), call.serial, outcome, currentMode());
        trace("call " + call.serial + " for #c" + info.token() + " ended " + outcome);
        inc("outcome." + outcome);
        switch (outcome) {
            case SUCCESS ->
                    call.future.complete(
                            new LlmReply(answerJson(call.serial), "stop", null, "sim", 10, 5));
            case BAD_JSON ->
                    call.future.complete(
                            new LlmReply("{\"category\": \"oth", "stop", null, "sim", 10, 5));
            case RATE_LIMITED ->
                    call.future.completeExceptionally(
                            new LlmException(
                                    LlmException.Kind.HTTP_STATUS,
                                    429,
                                    true,
                                    "HTTP 429: Rate limit reached",
                                    "{\"error\":{\"code\":\"rate_limit_exceeded\"}}",
                                    advice));
            case SERVER_ERROR ->
                    call.future.completeExceptionally(
                            new LlmException(
                                    LlmException.Kind.HTTP_STATUS,
                                    503,
                                    true,
                                    "HTTP 503: overloaded",
                                    "{\"error\":{\"message\":\"overloaded\"}}"));
            case TIMEOUT ->
                    call.future.completeExceptionally(
                            new LlmException(
                                    LlmException.Kind.TIMEOUT,
                                    0,
                                    true,
                                    "no answer within " + config.requestTimeoutMillis() + " ms",
                                    null));
            case DROPPED ->
                    call.future.completeExceptionally(
                            new LlmException(
                                    LlmException.Kind.TRANSPORT,
                                    0,
                                    true,
                                    "connection reset by peer",
                                    null));
            case UNAUTHORIZED ->
                    call.future.completeExceptionally(
                            new LlmException(
                                    LlmException.Kind.HTTP_STATUS,
                                    401,
                                    false,
                                    "HTTP 401: invalid api key",
                                    "{\"error\":{\"code\":\"invalid_api_key\"}}"));
            case QUOTA ->
                    call.future.completeExceptionally(
                            new LlmException(
                                    LlmException.Kind.HTTP_STATUS,
                                    429,
                                    false,
                                    "HTTP 429: You exceeded your current quota",
                                    "{\"error\":{\"code\":\"insufficient_quota\"}}"));
            case BAD_REQUEST ->
                    call.future.completeExceptionally(
                            new LlmException(
                                    LlmException.Kind.HTTP_STATUS,
                                    400,
                                    false,
                                    "HTTP 400: this ticket is malformed",
                                    "{\"error\":{\"code\":\"invalid_request\"}}"));
        }
        drainAll();
    }

    static String answerJson(int serial) {
        return new TriageAnswer(
                        "other", "normal", "neutral", "answer A" + serial, "We are on it.", 0.9)
                .toJson();
    }

    // ------------------------------------------------------------------ time and mails

    /** Moves the clock to {@code target}, stopping at every time something is due on the way. */
    private void advanceTo(long target, boolean running) throws Exception {
        while (now < target) {
            long next = nextInterestingTime(target);
            model.timePassed(next - now, providerUp(), running);
            now = next;
            for (Sub s : subs) {
                try {
                    s.harness.setStateTtlProcessingTime(now);
                    s.harness.setProcessingTime(now);
                } catch (Abort a) {
                    throw a;
                } catch (Throwable e) {
                    record("threw", "timer: " + e + " at " + where(e));
                    throw new Abort();
                }
            }
            check();
            // The HTTP client gives up on a call after its request timeout.
            for (SimLlmClient.Call c : new ArrayList<>(outstanding)) {
                if (c.sentAt + config.requestTimeoutMillis() <= now && !c.done) {
                    complete(c, Outcome.TIMEOUT, -1);
                }
            }
            drainAll();
        }
    }

    private long nextInterestingTime(long target) {
        long next = target;
        for (SimLlmClient.Call c : outstanding) {
            long due = c.sentAt + config.requestTimeoutMillis();
            if (due > now) {
                next = Math.min(next, due);
            }
        }
        if (modeUntil > now) {
            next = Math.min(next, modeUntil);
        }
        for (Sub s : subs) {
            for (long ts : s.harness.getProcessingTimeService().getActiveTimerTimestamps()) {
                if (ts > now) {
                    next = Math.min(next, ts);
                }
            }
        }
        return Math.max(next, now + 1);
    }

    private boolean providerUp() {
        Mode m = currentMode();
        return m == Mode.HEALTHY || m == Mode.FLAKY;
    }

    /** Runs every mail of every subtask (completions, retries, wake-ups) until none is left. */
    private void drainAll() throws Exception {
        boolean ran = true;
        while (ran) {
            ran = false;
            for (Sub s : List.copyOf(subs)) {
                TaskMailbox mailbox = s.harness.getTaskMailbox();
                Optional<Mail> mail;
                while ((mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY)).isPresent()) {
                    ran = true;
                    try {
                        mail.get().run();
                    } catch (Abort a) {
                        throw a;
                    } catch (Throwable e) {
                        record("threw", "mail " + mail.get() + ": " + e + " at " + where(e));
                        throw new Abort();
                    }
                    check();
                }
            }
            collect();
        }
    }

    /** After a step: all mails run; an operator on the wall clock gets a few ms for its timers. */
    private void settle() throws Exception {
        drainAll();
        if (SimConfig.WALL_CLOCK_OPERATOR) {
            long until = System.currentTimeMillis() + 30;
            while (outstanding.isEmpty()
                    && model.surelyPending()
                    && System.currentTimeMillis() < until) {
                Thread.sleep(1);
                drainAll();
            }
        }
        check();
    }

    /** The provider is healthy again and answers everything, until every ticket has its outcome. */
    private void heal() throws Exception {
        mode = Mode.HEALTHY;
        modeUntil = now;
        long wallLimit = System.currentTimeMillis() + 10_000;
        long simLimit = now + 2 * config.session().idleTimeout().toMillis();
        while (model.surelyPending() && now < simLimit && System.currentTimeMillis() < wallLimit) {
            if (!outstanding.isEmpty()) {
                complete(outstanding.get(0), Outcome.SUCCESS, -1);
            } else {
                advanceTo(nextInterestingTime(now + 1_000), true);
                settle();
            }
            check();
        }
        drainAll();
        checkpoint();
        Violation v = model.finish();
        if (v != null) {
            record(v);
            return;
        }
        // Idle sessions leave the state: nothing is pending, so after the idle timeout nothing is
        // kept.
        advanceTo(now + config.session().idleTimeout().toMillis() + 1_000, true);
        settle();
        advanceTo(now + config.session().idleTimeout().toMillis() + 1_000, true);
        settle();
        for (Sub s : subs) {
            int entries = s.harness.numKeyedStateEntries();
            if (entries > 0) {
                record(
                        "idle-state",
                        "subtask "
                                + s.index
                                + " keeps "
                                + entries
                                + " keyed state entries more than twice the idle timeout after"
                                + " its last ticket was answered");
                return;
            }
        }
    }

    // ------------------------------------------------------------------ outcomes

    /** Hands what the operators emitted to the model. */
    private void collect() {
        for (Sub s : subs) {
            Object o;
            while ((o = s.harness.getOutput().poll()) != null) {
                if (o instanceof StreamRecord<?> r && r.getValue() instanceof TriageResult result) {
                    onResult(result);
                }
            }
            var side = s.harness.getSideOutput(DeadLetter.OUTPUT_TAG);
            if (side != null) {
                StreamRecord<DeadLetter> r;
                while ((r = side.poll()) != null) {
                    onDeadLetter(r.getValue());
                }
            }
        }
    }

    private void onResult(TriageResult r) {
        inc("results");
        Matcher m = ANSWER.matcher(r.summary() == null ? "" : r.summary());
        if (!m.find()) {
            record(
                    "result",
                    "result for " + r.ticketId() + " with an answer nobody gave: " + r.summary());
            return;
        }
        CallInfo info = calls.get(Integer.parseInt(m.group(1)));
        int chars = info.textChars() + answerJson(info.serial()).length();
        Violation v =
                model.result(
                        r.sessionId(),
                        info.token(),
                        info.serial(),
                        r.turn(),
                        r.attempts(),
                        chars,
                        now);
        if (v != null) {
            record(v);
        }
    }

    private void onDeadLetter(DeadLetter d) {
        trace("dead letter " + d.reason() + " " + d.ticketId() + ": " + d.detail());
        inc("deadLetters");
        inc("deadLetters." + d.reason());
        Matcher m = CONTENT.matcher(d.payload() == null ? "" : d.payload());
        if (!m.find()) {
            record("outcome", "dead letter without the ticket's content: " + d);
            return;
        }
        Violation v =
                model.deadLetter(
                        d.sessionId(), Integer.parseInt(m.group(1)), d.reason(), d.detail(), now);
        if (v != null) {
            record(v);
        }
    }

    // ------------------------------------------------------------------ helpers

    private Sub owner(String session) {
        int index =
                KeyGroupRangeAssignment.assignKeyToParallelOperator(
                        session, config.maxParallelism(), parallelism);
        return subs.get(index);
    }

    private Set<Integer> outstandingTokens() {
        Set<Integer> tokens = new HashSet<>();
        for (SimLlmClient.Call c : outstanding) {
            tokens.add(calls.get(c.serial).token());
        }
        return tokens;
    }

    private static int token(String text) {
        Matcher m = CONTENT.matcher(text);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    private int nextRoll() {
        return Math.floorMod((int) (schedule.seed() * 31 + (rolls++) * 7919), 100);
    }

    private void record(Violation v) {
        record(v.code(), v.detail());
    }

    private void record(String code, String detail) {
        if (SKIP.contains(code)) {
            inc("skipped." + code);
            return;
        }
        if (violation == null) {
            violation = new Violation(code, detail);
        }
    }

    private void check() {
        if (violation != null) {
            throw new Abort();
        }
    }

    private void inc(String key) {
        stats.merge(key, 1L, Long::sum);
    }

    private static String where(Throwable t) {
        StackTraceElement[] st = t.getStackTrace();
        for (StackTraceElement e : st) {
            if (e.getClassName().startsWith("dev.triage") && !e.getClassName().contains("Sim")) {
                return e.getClassName().substring(e.getClassName().lastIndexOf('.') + 1)
                        + ":"
                        + e.getLineNumber();
            }
        }
        return st.length > 0 ? st[0].toString() : "?";
    }
}
