package dev.triage.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The plain answers of {@code job-status} queries, from REST JSON recorded from Flink 2.2. */
class JobStatusTest {

    private static final String OVERVIEW =
            "{\"jobs\":[{\"jid\":\"aa11\",\"name\":\"support-triage\",\"start-time\":1,"
                    + "\"end-time\":2,\"duration\":1,\"state\":\"CANCELED\",\"last-modification\":2,"
                    + "\"tasks\":{\"running\":0,\"canceled\":4,\"failed\":0,\"finished\":0}},"
                    + "{\"jid\":\"bb22\",\"name\":\"eval-1700000000\",\"start-time\":3,"
                    + "\"end-time\":-1,\"duration\":9,\"state\":\"RUNNING\",\"last-modification\":3,"
                    + "\"tasks\":{\"running\":4}},"
                    + "{\"jid\":\"cc33\",\"name\":\"support-triage\",\"start-time\":5,"
                    + "\"end-time\":-1,\"duration\":7,\"state\":\"RESTARTING\","
                    + "\"last-modification\":5,\"tasks\":{\"running\":0}}]}";

    private static final String CHECKPOINTS =
            "{\"counts\":{\"restored\":0,\"total\":3,\"in_progress\":0,\"completed\":2,"
                    + "\"failed\":1},\"summary\":{},\"latest\":{\"completed\":{"
                    + "\"className\":\"completed\",\"id\":2,\"status\":\"COMPLETED\","
                    + "\"is_savepoint\":false,\"trigger_timestamp\":1700000001000,"
                    + "\"latest_ack_timestamp\":1700000001250,\"num_subtasks\":8,"
                    + "\"tasks\":{},\"external_path\":\"file:/tmp/chk-2\",\"discarded\":false},"
                    + "\"savepoint\":null,\"failed\":null,\"restored\":null},\"history\":[]}";

    private static final String TASKMANAGERS =
            "{\"taskmanagers\":[{\"id\":\"tm-1\",\"path\":\"pekko.tcp://flink@localhost:1/user/rpc/"
                    + "taskmanager_0\",\"dataPort\":1,\"slotsNumber\":2,\"freeSlots\":2,"
                    + "\"totalResource\":{},\"freeResource\":{}},"
                    + "{\"id\":\"tm-3\",\"slotsNumber\":2,\"freeSlots\":0},"
                    + "{\"id\":\"tm-2\",\"slotsNumber\":2,\"freeSlots\":1}]}";

    private static JsonNode json(String text) throws Exception {
        return Json.MAPPER.readTree(text);
    }

    @Test
    void listsEveryJobAsPlainWords() throws Exception {
        assertThat(JobStatus.jobLines(json(OVERVIEW)))
                .containsExactly(
                        "  jid:aa11 name:support-triage state:CANCELED",
                        "  jid:bb22 name:eval-1700000000 state:RUNNING",
                        "  jid:cc33 name:support-triage state:RESTARTING");
    }

    @Test
    void theRunningJobIsTheFirstOfItsNameThatIsNotFinished() throws Exception {
        assertThat(JobStatus.runningJobId(json(OVERVIEW), "support-triage")).contains("cc33");
        assertThat(JobStatus.runningJobId(json(OVERVIEW), "other")).isEmpty();
        assertThat(JobStatus.countActive(json(OVERVIEW), "support-triage")).isEqualTo(1);
        assertThat(JobStatus.countActive(json(OVERVIEW), null)).isEqualTo(2);
    }

    @Test
    void isRunningWantsTheStateRunningItself() throws Exception {
        assertThat(JobStatus.isRunning(json(OVERVIEW), "support-triage")).isFalse();
        assertThat(JobStatus.isRunning(json(OVERVIEW), "eval-1700000000")).isTrue();
        assertThat(JobStatus.isRunning(json("{\"jobs\":[]}"), "support-triage")).isFalse();
    }

    @Test
    void theLatestCompletedCheckpointsTimesNotTheCounts() throws Exception {
        assertThat(JobStatus.latestCheckpointTime(json(CHECKPOINTS), "trigger_timestamp"))
                .isEqualTo(1700000001000L);
        assertThat(JobStatus.latestCheckpointTime(json(CHECKPOINTS), "latest_ack_timestamp"))
                .isEqualTo(1700000001250L);
        String none =
                "{\"counts\":{\"completed\":0},\"latest\":{\"completed\":null,"
                        + "\"savepoint\":null},\"history\":[]}";
        assertThat(JobStatus.latestCheckpointTime(json(none), "trigger_timestamp")).isZero();
    }

    @Test
    void aBusyTaskManagerHasFewerFreeSlotsThanSlots() throws Exception {
        assertThat(JobStatus.busyTaskManager(json(TASKMANAGERS))).contains("tm-3");
        String idle = "{\"taskmanagers\":[{\"id\":\"tm-1\",\"slotsNumber\":2,\"freeSlots\":2}]}";
        assertThat(JobStatus.busyTaskManager(json(idle))).isEmpty();
    }

    @Test
    void taskManagerIdsInTheOrderTheRestApiListsThem() throws Exception {
        assertThat(JobStatus.taskManagerIds(json(TASKMANAGERS)))
                .containsExactly("tm-1", "tm-3", "tm-2");
    }

    @Test
    void aClusterThatDoesNotAnswerIsExitOne() {
        // Port 1 on the loopback refuses at once: no network beyond this machine.
        int rc =
                new CommandLine(new TriageTools())
                        .execute("job-status", "--rest", "http://127.0.0.1:1", "--is-running");

        assertThat(rc).isEqualTo(1);
    }

    @Test
    void queriesExcludeEachOther() {
        int rc =
                new CommandLine(new TriageTools())
                        .setErr(new java.io.PrintWriter(new java.io.StringWriter()))
                        .execute("job-status", "--count-running", "--taskmanager-count");

        assertThat(rc).isEqualTo(2);
    }
}
