package dev.triage.metrics;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

import java.util.HashMap;
import java.util.Map;

/** Counters in labelled sub-groups (Prometheus: a label), each created on first use. */
public final class LabelledCounters {

    private final MetricGroup group;
    private final Map<String, Counter> counters = new HashMap<>();

    public LabelledCounters(MetricGroup group) {
        this.group = group;
    }

    /** The counter of {@code metric} for the label value {@code value}. */
    public Counter get(MetricNames.Labelled metric, String value) {
        return counters.computeIfAbsent(
                metric.key() + '\u0000' + value + '\u0000' + metric.name(),
                k -> group.addGroup(metric.key(), value).counter(metric.name()));
    }
}
