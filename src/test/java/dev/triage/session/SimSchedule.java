package dev.triage.session;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A simulation schedule: the settings and a list of concrete steps, drawn from one seed. Steps are
 * concrete values (no hidden randomness), so a schedule can be shrunk by dropping steps and still
 * means something: a re-send whose original was dropped simply becomes a new ticket.
 */
record SimSchedule(long seed, SimConfig config, List<Step> steps) {

    /** What the provider answers a call with, unless the provider's mode overrides it. */
    enum Outcome {
        SUCCESS,
        BAD_JSON,
        RATE_LIMITED,
        SERVER_ERROR,
        TIMEOUT,
        DROPPED,
        UNAUTHORIZED,
        QUOTA,
        BAD_REQUEST
    }

    /** The provider's state for a while: every call completed meanwhile follows it. */
    enum Mode {
        HEALTHY,
        /** Every call fails with a transient error (5xx, timeout, dropped connection). */
        OUTAGE,
        /** Half of the calls fail with a transient error. */
        FLAKY,
        /** Every call gets 401 (a rotated key). */
        UNAUTHORIZED,
        /** Every call gets 429 insufficient_quota. */
        QUOTA
    }

    sealed interface Step {}

    /** A ticket arrives (from the source) for {@code session}; {@code content} is its text's id. */
    record Arrive(String session, String ticketId, int content, int filler) implements Step {
        @Override
        public String toString() {
            return "arrive " + session + "/" + ticketId + " #c" + content;
        }
    }

    /**
     * The provider completes one outstanding call: the {@code pick}-th (mod their number) in the
     * order they were sent, so slow answers complete out of order. {@code roll} decides what a
     * flaky or broken provider does instead.
     */
    record Complete(int pick, Outcome outcome, long adviceMillis, int roll) implements Step {
        @Override
        public String toString() {
            return "complete call["
                    + pick
                    + "] "
                    + outcome
                    + (adviceMillis >= 0 ? " retry-after " + adviceMillis + "ms" : "")
                    + " roll "
                    + roll;
        }
    }

    /** The provider is in {@code mode} from now for {@code millis}, then healthy again. */
    record Provider(Mode mode, long millis) implements Step {
        @Override
        public String toString() {
            return "provider " + mode + " for " + millis + "ms";
        }
    }

    /** Time passes (small steps; timers due meanwhile fire). */
    record Tick(long millis) implements Step {
        @Override
        public String toString() {
            return "tick " + millis + "ms";
        }
    }

    /** A long time passes at once: past the ticket deadline or the idle timeout. */
    record Jump(long millis, String why) implements Step {
        @Override
        public String toString() {
            return "jump " + millis + "ms (" + why + ")";
        }
    }

    /** A checkpoint: every subtask snapshots; it completes and commits at once. */
    record Snapshot() implements Step {
        @Override
        public String toString() {
            return "checkpoint";
        }
    }

    /**
     * The job fails (or is stopped), stays down for {@code downtimeMillis}, and restores from the
     * last completed checkpoint at {@code parallelism}.
     */
    record Restore(int parallelism, long downtimeMillis) implements Step {
        @Override
        public String toString() {
            return "crash, down " + downtimeMillis + "ms, restore at parallelism " + parallelism;
        }
    }

    static SimSchedule generate(long seed, int length) {
        SplittableRandom rnd = new SplittableRandom(seed);
        SimConfig config = SimConfig.draw(rnd);
        List<Step> steps = new ArrayList<>();
        int sessions = 2 + rnd.nextInt(10);
        int[] nextId = new int[sessions];
        List<List<int[]>> recent = new ArrayList<>(); // per session: {idNumber, content}
        for (int s = 0; s < sessions; s++) {
            recent.add(new ArrayList<>());
        }
        int[] content = {0};
        while (steps.size() < length) {
            int r = rnd.nextInt(100);
            if (r < 28) {
                steps.add(arrival(rnd, sessions, nextId, recent, content));
            } else if (r < 32) {
                int burst = 3 + rnd.nextInt(8);
                for (int i = 0; i < burst; i++) {
                    steps.add(arrival(rnd, sessions, nextId, recent, content));
                }
            } else if (r < 64) {
                steps.add(completion(rnd));
            } else if (r < 77) {
                steps.add(new Tick(1 + rnd.nextInt(rnd.nextBoolean() ? 50 : 3_000)));
            } else if (r < 82) {
                steps.add(provider(rnd, config));
            } else if (r < 85) {
                if (rnd.nextBoolean()) {
                    long d = config.gateway().ticketDeadline().toMillis();
                    steps.add(new Jump(d + rnd.nextLong(d), "past the ticket deadline"));
                } else {
                    long idle = config.session().idleTimeout().toMillis();
                    steps.add(new Jump(idle + 1 + rnd.nextLong(2 * idle), "past the idle timeout"));
                }
            } else if (r < 95) {
                steps.add(new Snapshot());
            } else {
                long idle = config.session().idleTimeout().toMillis();
                long down =
                        switch (rnd.nextInt(3)) {
                            case 0 -> 0;
                            case 1 -> rnd.nextLong(60_000);
                            default -> idle + rnd.nextLong(3 * idle); // a night of `down`
                        };
                steps.add(new Restore(1 + rnd.nextInt(config.maxParallelismUsed()), down));
            }
        }
        return new SimSchedule(seed, config, steps);
    }

    private static Arrive arrival(
            SplittableRandom rnd,
            int sessions,
            int[] nextId,
            List<List<int[]>> recent,
            int[] content) {
        // One hot session takes about 40% of the arrivals.
        int s = rnd.nextInt(100) < 40 ? 0 : rnd.nextInt(sessions);
        List<int[]> mine = recent.get(s);
        int r = rnd.nextInt(100);
        int filler = rnd.nextInt(120);
        if (r < 12 && !mine.isEmpty()) {
            // A re-send: same id, same content (a duplicate), from the last three tickets.
            int[] old = mine.get(mine.size() - 1 - rnd.nextInt(Math.min(3, mine.size())));
            return new Arrive("S" + s, "S" + s + "-T" + old[0], old[1], old[2]);
        }
        int id;
        if (r < 20 && !mine.isEmpty()) {
            id = mine.get(mine.size() - 1 - rnd.nextInt(Math.min(3, mine.size())))[0];
        } else {
            id = ++nextId[s];
        }
        int c = ++content[0];
        mine.add(new int[] {id, c, filler});
        return new Arrive("S" + s, "S" + s + "-T" + id, c, filler);
    }

    private static Complete completion(SplittableRandom rnd) {
        int r = rnd.nextInt(100);
        Outcome o;
        if (r < 58) {
            o = Outcome.SUCCESS;
        } else if (r < 65) {
            o = Outcome.BAD_JSON;
        } else if (r < 74) {
            o = Outcome.RATE_LIMITED;
        } else if (r < 81) {
            o = Outcome.SERVER_ERROR;
        } else if (r < 86) {
            o = Outcome.TIMEOUT;
        } else if (r < 91) {
            o = Outcome.DROPPED;
        } else if (r < 94) {
            o = Outcome.UNAUTHORIZED;
        } else if (r < 97) {
            o = Outcome.QUOTA;
        } else {
            o = Outcome.BAD_REQUEST;
        }
        long advice = o == Outcome.RATE_LIMITED && rnd.nextBoolean() ? rnd.nextLong(20_000) : -1;
        return new Complete(rnd.nextInt(1000), o, advice, rnd.nextInt(100));
    }

    private static Provider provider(SplittableRandom rnd, SimConfig config) {
        int r = rnd.nextInt(100);
        long checkpointTimeout = config.checkpointTimeoutMillis();
        if (r < 45) {
            // Outages of random length, up to twice the checkpoint timeout.
            long millis =
                    rnd.nextBoolean()
                            ? 1_000 + rnd.nextLong(30_000)
                            : rnd.nextLong(2 * checkpointTimeout);
            return new Provider(Mode.OUTAGE, millis);
        } else if (r < 70) {
            return new Provider(Mode.FLAKY, 10_000 + rnd.nextLong(120_000));
        } else if (r < 80) {
            return new Provider(Mode.UNAUTHORIZED, 5_000 + rnd.nextLong(60_000));
        } else if (r < 90) {
            return new Provider(Mode.QUOTA, 5_000 + rnd.nextLong(60_000));
        }
        return new Provider(Mode.HEALTHY, 0);
    }

    /** The same schedule with other steps. */
    SimSchedule withSteps(List<Step> other) {
        return new SimSchedule(seed, config, List.copyOf(other));
    }

    String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("seed ").append(seed).append(": ").append(config).append('\n');
        for (int i = 0; i < steps.size(); i++) {
            sb.append(String.format("  %3d  %s%n", i, steps.get(i)));
        }
        return sb.toString();
    }
}
