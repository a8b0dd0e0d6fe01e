package dev.triage.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/** The job-level settings the job sets for itself, and the cluster's word over them. */
class TriageJobTest {

    @Test
    void recordsAreHandedOnWithoutACopyUnlessTheClusterSaysOtherwise() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        TriageJob.configure(env, new Configuration());
        assertThat(env.getConfig().isObjectReuseEnabled()).isTrue();

        Configuration cluster = new Configuration();
        cluster.set(PipelineOptions.OBJECT_REUSE, false);
        StreamExecutionEnvironment withCluster =
                StreamExecutionEnvironment.getExecutionEnvironment(cluster);
        TriageJob.configure(withCluster, new Configuration());
        assertThat(withCluster.getConfig().isObjectReuseEnabled()).isFalse();
    }
}
