package dev.triage.tools.bench;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The arithmetic of a benchmark run, kept apart from Kafka and processes so it can be tested. */
final class RunStats {

    private static final Pattern TURN = Pattern.compile("-T(\\d+)$");

    private RunStats() {}

    /** One output record as the meter saw it. */
    record Output(
            String ticketId,
            String sessionId,
            boolean deadLetter,
            int partition,
            long appendedAt,
            long seenAt) {}

    /** Nearest-rank percentile of sorted values; NaN when there are none. */
    static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /**
     * Tickets per second over the middle 90% of the output, by the broker's append times: the
     * start-up before the first results and the tail after the last are left out, and so is the
     * checkpoint rhythm in which exactly-once results become visible.
     */
    static double steadyThroughput(long[] sortedAppendTimes) {
        int n = sortedAppendTimes.length;
        if (n < 20) {
            return Double.NaN;
        }
        int from = (int) (n * 0.05);
        int to = (int) (n * 0.95) - 1;
        long span = sortedAppendTimes[to] - sortedAppendTimes[from];
        return span <= 0 ? Double.NaN : (to - from) * 1000.0 / span;
    }

    /** The time window {@link #steadyThroughput} measures, as [from, to] epoch milliseconds. */
    static long[] steadyWindow(long[] sortedAppendTimes) {
        int n = sortedAppendTimes.length;
        if (n < 20) {
            return null;
        }
        return new long[] {
            sortedAppendTimes[(int) (n * 0.05)], sortedAppendTimes[(int) (n * 0.95) - 1]
        };
    }

    /** Linear interpolation in a series of (time, value) samples sorted by time. */
    static double interpolate(long[] times, double[] values, long at) {
        if (times.length == 0) {
            return Double.NaN;
        }
        if (at <= times[0]) {
            return values[0];
        }
        for (int i = 1; i < times.length; i++) {
            if (at <= times[i]) {
                double f = (double) (at - times[i - 1]) / Math.max(1, times[i] - times[i - 1]);
                return values[i - 1] + f * (values[i] - values[i - 1]);
            }
        }
        return values[values.length - 1];
    }

    /** The turn number in a generated ticket id ({@code ...-T3}), or -1. */
    static int turn(String ticketId) {
        Matcher m = TURN.matcher(ticketId);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /**
     * Results of a session seen after a later turn of the same session, in the order the meter read
     * them (a session's results share a partition). Repeats of a ticket are not counted here.
     */
    static int orderViolations(List<Output> outputs) {
        Map<String, Integer> lastTurn = new HashMap<>();
        Set<String> seen = new HashSet<>();
        int violations = 0;
        for (Output o : outputs) {
            if (o.deadLetter() || !seen.add(o.ticketId())) {
                continue;
            }
            int turn = turn(o.ticketId());
            Integer last = lastTurn.get(o.sessionId());
            if (last != null && turn < last) {
                violations++;
            } else {
                lastTurn.put(o.sessionId(), turn);
            }
        }
        return violations;
    }

    /** Output records beyond the first for the same ticket. */
    static int duplicates(List<Output> outputs) {
        Set<String> seen = new HashSet<>();
        int dups = 0;
        for (Output o : outputs) {
            if (!seen.add(o.ticketId())) {
                dups++;
            }
        }
        return dups;
    }

    /** Results per second, by append time, in one-second buckets from {@code start}. */
    static int[] perSecond(long[] appendTimes, long start, int seconds) {
        int[] buckets = new int[Math.max(0, seconds)];
        for (long t : appendTimes) {
            int b = (int) ((t - start) / 1000);
            if (b >= 0 && b < buckets.length) {
                buckets[b]++;
            }
        }
        return buckets;
    }

    static long[] sorted(long[] values) {
        long[] copy = values.clone();
        Arrays.sort(copy);
        return copy;
    }
}
