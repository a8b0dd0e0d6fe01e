package dev.triage.session;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.streaming.runtime.tasks.TestProcessingTimeService;
import org.apache.flink.util.function.ThrowingRunnable;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** One clock: the processing-time service, and a hand-off to the mailbox once finish() began. */
class OperatorClockTest {

    private final TestProcessingTimeService time = new TestProcessingTimeService();
    private final LinkedBlockingQueue<ThrowingRunnable<? extends Exception>> mails =
            new LinkedBlockingQueue<>();
    private final OperatorClock clock = new OperatorClock(time, new Mails());

    @Test
    void nowAndTimersAreTheProcessingTimeServices() throws Exception {
        List<String> fired = new ArrayList<>();
        time.setCurrentTime(100);
        assertThat(clock.now()).isEqualTo(100);
        clock.at(300, () -> fired.add("retry"));
        clock.at(200, () -> fired.add("wake-up"));
        time.setCurrentTime(250);
        assertThat(fired).containsExactly("wake-up");
        time.setCurrentTime(300);
        assertThat(fired).containsExactly("wake-up", "retry");
        assertThat(mails).isEmpty();
    }

    @Test
    void afterFinishBeganTimersAreHandedToTheMailbox() throws Exception {
        List<String> fired = new ArrayList<>();
        time.setCurrentTime(1_000);
        clock.finishing();
        clock.at(1_000, () -> fired.add("late retry"));
        assertThat(time.getNumActiveTimers()).as("not on the quiesced service").isZero();
        // The late timer thread only enqueues a mail; the action runs where the mail is run.
        ThrowingRunnable<? extends Exception> mail = mails.poll(10, TimeUnit.SECONDS);
        assertThat(mail).isNotNull();
        assertThat(fired).isEmpty();
        mail.run();
        assertThat(fired).containsExactly("late retry");
        clock.close();
    }

    /** Queues mails for the test thread to run. */
    private final class Mails implements MailboxExecutor {
        @Override
        public void execute(
                MailOptions options,
                ThrowingRunnable<? extends Exception> command,
                String description,
                Object... args) {
            mails.add(command);
        }

        @Override
        public void yield() {}

        @Override
        public boolean tryYield() {
            return false;
        }

        @Override
        public boolean shouldInterrupt() {
            return false;
        }
    }
}
