package dev.triage.config;

import static org.apache.flink.configuration.description.TextElement.text;

import org.apache.flink.configuration.DescribedEnum;
import org.apache.flink.configuration.description.InlineElement;

import java.util.Locale;

/**
 * Where a job without a checkpoint starts reading ({@code kafka.starting-offsets}). The value users
 * write is {@link #toString()}: Flink matches an enum option by it, case-insensitively.
 */
public enum StartingOffsets implements DescribedEnum {
    /** Every record still on the topic. */
    EARLIEST("the oldest record still on the topic"),
    /** Only records written after the job starts. */
    LATEST("only records written after the job starts"),
    /** The consumer group's committed offsets; the earliest where it has none. */
    COMMITTED_OR_EARLIEST("the consumer group's committed offsets, else the oldest record");

    private final String description;

    StartingOffsets(String description) {
        this.description = description;
    }

    /** The user-facing value, e.g. {@code committed-or-earliest}. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    @Override
    public InlineElement getDescription() {
        return text(description);
    }

    /** Every value with what it means, for the option's description. */
    static String choices() {
        StringBuilder out = new StringBuilder();
        StartingOffsets[] all = values();
        for (int i = 0; i < all.length; i++) {
            out.append(i == 0 ? "" : i == all.length - 1 ? " or " : ", ")
                    .append(all[i])
                    .append(" (")
                    .append(all[i].description)
                    .append(')');
        }
        return out.toString();
    }
}
