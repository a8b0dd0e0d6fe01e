package dev.triage.tools.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Samples a process's CPU time every 100 ms on a thread of its own: producing a backlog keeps the
 * run's loop too busy to sample on time.
 */
final class CpuSampler implements AutoCloseable {
    private final List<Long> times = new ArrayList<>();
    private final List<Double> values = new ArrayList<>();
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();

    CpuSampler(Process process) {
        this(process.toHandle());
    }

    CpuSampler(ProcessHandle process) {
        executor.scheduleAtFixedRate(
                () -> {
                    double cpu = cpuSeconds(process);
                    synchronized (times) {
                        times.add(System.currentTimeMillis());
                        values.add(cpu);
                    }
                },
                0,
                100,
                TimeUnit.MILLISECONDS);
    }

    /**
     * CPU seconds per 1,000 tickets over {@code window} (epoch ms from, to), in which tickets came
     * out at {@code ticketsPerSecond}; NaN without a window or tickets.
     */
    double secondsPer1000(long[] window, double ticketsPerSecond) {
        if (window == null) {
            return Double.NaN;
        }
        long[] t;
        double[] v;
        synchronized (times) {
            t = times.stream().mapToLong(Long::longValue).toArray();
            v = values.stream().mapToDouble(Double::doubleValue).toArray();
        }
        double cpu = RunStats.interpolate(t, v, window[1]) - RunStats.interpolate(t, v, window[0]);
        double ticketsInWindow = ticketsPerSecond * (window[1] - window[0]) / 1000.0;
        return ticketsInWindow > 0 ? cpu / ticketsInWindow * 1000 : Double.NaN;
    }

    @Override
    public void close() throws InterruptedException {
        executor.shutdown();
        executor.awaitTermination(5, TimeUnit.SECONDS);
    }

    private static double cpuSeconds(ProcessHandle p) {
        return p.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
    }
}
