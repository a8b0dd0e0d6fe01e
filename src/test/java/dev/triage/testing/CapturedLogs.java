package dev.triage.testing;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.apache.logging.log4j.core.layout.PatternLayout;

import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Every log line of this JVM (the MiniCluster's tasks and the Kafka clients included) kept in
 * memory with its stack trace, with some loggers turned up, so that a test can look for what must
 * never be logged. The console keeps printing warnings only; {@link #close} restores the logging
 * configuration from its file.
 */
public final class CapturedLogs implements AutoCloseable {

    private final Queue<String> lines = new ConcurrentLinkedQueue<>();
    private final LoggerContext context;

    private CapturedLogs(LoggerContext context) {
        this.context = context;
    }

    /** Starts capturing, with each named logger at (at least) its level. */
    public static CapturedLogs start(Map<String, Level> levels) {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        CapturedLogs logs = new CapturedLogs(context);
        Configuration config = context.getConfiguration();
        Appender capture =
                new AbstractAppender(
                        "captured-logs",
                        null,
                        PatternLayout.newBuilder()
                                .withPattern("%p %c - %m%throwable%n")
                                .withConfiguration(config)
                                .build(),
                        true,
                        Property.EMPTY_ARRAY) {
                    @Override
                    public void append(LogEvent event) {
                        logs.lines.add(getLayout().toSerializable(event).toString());
                    }
                };
        capture.start();
        config.addAppender(capture);
        LoggerConfig root = config.getRootLogger();
        // What the loggers turned up print goes to the capture only, not to the console.
        for (Map.Entry<String, Appender> e : Map.copyOf(root.getAppenders()).entrySet()) {
            root.removeAppender(e.getKey());
            root.addAppender(e.getValue(), Level.WARN, null);
        }
        root.addAppender(capture, null, null);
        for (Map.Entry<String, Level> e : levels.entrySet()) {
            LoggerConfig logger = config.getLoggers().get(e.getKey());
            if (logger == null) {
                config.addLogger(e.getKey(), new LoggerConfig(e.getKey(), e.getValue(), true));
            } else {
                logger.setLevel(e.getValue());
            }
        }
        context.updateLoggers();
        return logs;
    }

    /** The lines captured so far. */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    /** The captured lines that contain {@code text}. */
    public List<String> linesContaining(String text) {
        return lines.stream().filter(l -> l.contains(text)).toList();
    }

    @Override
    public void close() {
        context.reconfigure();
    }
}
