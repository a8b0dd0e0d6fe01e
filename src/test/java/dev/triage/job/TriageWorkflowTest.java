package dev.triage.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.triage.config.JobSettings;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** The job's topology as its settings wire it: which operators exist, under their stable ids. */
class TriageWorkflowTest {

    @Test
    void theCustomerJoinIsInTheTopologyOnlyWhenCustomersAreEnabled() throws Exception {
        assertThat(uids("customers.enabled: true"))
                .containsExactlyInAnyOrder(
                        TriageWorkflow.SOURCE_UID,
                        TriageWorkflow.PARSER_UID,
                        TriageWorkflow.CUSTOMERS_SOURCE_UID,
                        TriageWorkflow.CUSTOMER_PARSER_UID,
                        TriageWorkflow.OUTCOMES_SOURCE_UID,
                        TriageWorkflow.ENRICHER_UID,
                        TriageWorkflow.TRIAGE_UID,
                        TriageWorkflow.RESULTS_SINK_UID,
                        TriageWorkflow.DLQ_SINK_UID);
        assertThat(uids("customers.enabled: false"))
                .containsExactlyInAnyOrder(
                        TriageWorkflow.SOURCE_UID,
                        TriageWorkflow.PARSER_UID,
                        TriageWorkflow.TRIAGE_UID,
                        TriageWorkflow.RESULTS_SINK_UID,
                        TriageWorkflow.DLQ_SINK_UID);
    }

    @Test
    void anAbsentCustomerStreamIsAnEmptyOptionalNeverANull() {
        assertThatThrownBy(() -> new TriageWorkflow.Sources(null, Optional.empty()))
                .isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new TriageWorkflow.CustomerSources(null, null))
                .isInstanceOf(NullPointerException.class);
    }

    /** The ids of the job's operators (a sink's committer carries the sink's, prefixed). */
    private static List<String> uids(String yaml) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        TriageJob.build(env, JobSettings.fromYaml(yaml));
        return env.getStreamGraph().getStreamNodes().stream()
                .map(StreamNode::getTransformationUID)
                .filter(Objects::nonNull)
                .map(uid -> uid.replaceFirst("^Sink Committer: ", ""))
                .distinct()
                .toList();
    }
}
