package dev.triage.tools.cli;

import dev.triage.config.JobSettings;
import dev.triage.config.TriageOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ConfigurationUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code settings --get KEY}: the effective value of a job setting, read through the job's own
 * {@link JobSettings} and {@link TriageOptions}, so that bin/triage never restates one.
 */
@Command(
        name = "settings",
        description =
                "Print the effective value of job settings (default included), one a line, in the"
                        + " order asked; an unknown key exits with 2.")
final class SettingsCommand implements Callable<Integer> {

    /** Exit code for a key that no option declares. */
    static final int UNKNOWN_KEY = 2;

    @Option(
            names = "--get",
            required = true,
            paramLabel = "KEY",
            description = "A job setting's key, e.g. kafka.topics.tickets (repeatable).")
    List<String> keys = new ArrayList<>();

    @Option(
            names = "--job",
            paramLabel = "FILE",
            description = "A job settings file; repeated files are layered left to right.")
    List<Path> files = new ArrayList<>();

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<ConfigOption<?>> options = new ArrayList<>();
        for (String key : keys) {
            Optional<ConfigOption<?>> option = option(key);
            if (option.isEmpty()) {
                err.println("Unknown job setting '" + key + "' (declared ones: TriageOptions)");
                return UNKNOWN_KEY;
            }
            options.add(option.get());
        }
        Configuration conf =
                JobSettings.fromArgs(files.stream().map(Path::toString).toArray(String[]::new));
        for (ConfigOption<?> option : options) {
            out.println(value(conf, option));
        }
        out.flush();
        return 0;
    }

    /** The option declared under {@code key}, if any. */
    static Optional<ConfigOption<?>> option(String key) {
        return TriageOptions.ALL.stream().filter(o -> o.key().equals(key)).findFirst();
    }

    /** The value the job would read, in Flink's string form; empty for an unset optional one. */
    static String value(Configuration conf, ConfigOption<?> option) {
        Object value = conf.get(option);
        return value == null ? "" : ConfigurationUtils.convertValue(value, String.class);
    }
}
