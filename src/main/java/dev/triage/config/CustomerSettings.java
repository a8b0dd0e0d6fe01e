package dev.triage.config;

import static dev.triage.config.TriageOptions.*;

import org.apache.flink.configuration.ReadableConfig;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;

/** The customer-context join: a typed view of the {@code customers.*} options. */
public record CustomerSettings(
        boolean enabled,
        Duration profileWait,
        int historySize,
        Duration historyTtl,
        List<String> highTiers,
        int repeatContacts,
        Duration repeatWindow,
        int maxRecordBytes)
        implements Serializable {

    public CustomerSettings {
        highTiers = List.copyOf(highTiers);
    }

    public static CustomerSettings from(ReadableConfig conf) {
        return new CustomerSettings(
                conf.get(CUSTOMERS_ENABLED),
                conf.get(CUSTOMERS_PROFILE_WAIT),
                conf.get(CUSTOMERS_HISTORY_SIZE),
                conf.get(CUSTOMERS_HISTORY_TTL),
                conf.get(CUSTOMERS_HIGH_TIERS),
                conf.get(CUSTOMERS_REPEAT_CONTACTS),
                conf.get(CUSTOMERS_REPEAT_WINDOW),
                conf.get(CUSTOMERS_MAX_RECORD_BYTES));
    }

    public static CustomerSettings disabled() {
        return new CustomerSettings(
                false,
                Duration.ZERO,
                0,
                Duration.ofDays(1),
                List.of(),
                0,
                Duration.ZERO,
                CUSTOMERS_MAX_RECORD_BYTES.defaultValue());
    }
}
