package dev.triage.session;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.streaming.runtime.tasks.ProcessingTimeService;
import org.apache.flink.util.concurrent.ExecutorThreadFactory;
import org.apache.flink.util.function.ThrowingRunnable;

import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The operator's one clock: "now", wake-ups and retries all come from Flink's processing-time
 * service, so a test harness drives them. Actions run on the task thread.
 *
 * <p>One exception, which the service cannot cover: once {@code finish()} has begun, Flink quiesces
 * the service and its timers no longer fire, yet finish() must still wait out the retries of the
 * tickets it answers. From {@link #finishing()} on, timers go to a single thread that only hands
 * each action back to the mailbox, at the service's time ({@link #now()} stays the service's).
 */
final class OperatorClock implements AutoCloseable {

    private final ProcessingTimeService time;
    private final MailboxExecutor mailbox;
    private boolean finishing;
    private ScheduledExecutorService lateTimer;

    OperatorClock(ProcessingTimeService time, MailboxExecutor mailbox) {
        this.time = time;
        this.mailbox = mailbox;
    }

    long now() {
        return time.getCurrentProcessingTime();
    }

    /** Runs {@code action} on the task thread at processing time {@code at}. */
    void at(long at, ThrowingRunnable<Exception> action) {
        if (!finishing) {
            time.registerTimer(at, t -> action.run());
            return;
        }
        if (lateTimer == null) {
            lateTimer =
                    Executors.newSingleThreadScheduledExecutor(
                            new ExecutorThreadFactory("llm-retry-timer"));
        }
        lateTimer.schedule(
                () -> {
                    try {
                        mailbox.execute(action::run, "late llm timer");
                    } catch (RejectedExecutionException e) {
                        // shutting down; the retry is in state and resumes after a restore
                    }
                },
                Math.max(0, at - now()),
                TimeUnit.MILLISECONDS);
    }

    /** finish() has begun: timers registered from now on must fire without the service. */
    void finishing() {
        finishing = true;
    }

    @Override
    public void close() {
        if (lateTimer != null) {
            lateTimer.shutdownNow();
        }
    }
}
