package dev.triage.tools.cli;

import dev.triage.config.TriageOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.description.HtmlFormatter;
import org.apache.flink.util.TimeUtils;

import java.time.Duration;
import java.util.Map;

/** Prints the table of job settings for jobs/README.md from {@link TriageOptions}. */
public final class OptionsDoc {

    private OptionsDoc() {}

    public static void main(String[] args) {
        System.out.print(table());
    }

    /** One markdown row per option: key, default, description. */
    public static String table() {
        StringBuilder out = new StringBuilder();
        for (ConfigOption<?> o : TriageOptions.ALL) {
            Object d = o.defaultValue();
            String shown;
            if (d instanceof Duration duration) {
                shown = TimeUtils.formatWithHighestUnit(duration);
            } else if (d instanceof Map<?, ?> map) {
                shown = map.isEmpty() ? "(none)" : "see below";
            } else {
                shown = String.valueOf(d);
            }
            if (shown.length() > 40) {
                shown = "see `TriageOptions`";
            }
            String description = new HtmlFormatter().format(o.description()).replace("|", "\\|");
            out.append("| `")
                    .append(o.key())
                    .append("` | ")
                    .append(shown)
                    .append(" | ")
                    .append(description)
                    .append(" |\n");
        }
        return out.toString();
    }
}
