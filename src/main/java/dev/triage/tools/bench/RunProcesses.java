package dev.triage.tools.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The two processes of a run, each in a JVM of its own: the provider simulator and the pipeline;
 * their logs go to the bench's log directory under the run's id.
 */
final class RunProcesses {

    private final BenchRun.Setup setup;
    private final Scenario scenario;
    private final Pipeline pipeline;
    private final int inFlight;
    private final String id;

    RunProcesses(
            BenchRun.Setup setup, Scenario scenario, Pipeline pipeline, int inFlight, String id) {
        this.setup = setup;
        this.scenario = scenario;
        this.pipeline = pipeline;
        this.inFlight = inFlight;
        this.id = id;
    }

    Process startSimulator(int port) throws Exception {
        List<String> cmd = new ArrayList<>(java(setup.classpath(), "256m"));
        // The stand-in for a remote provider should take as little of the shared CPU as it can:
        // the C1 compiler alone compiles far less than C2 for nearly the same speed here.
        cmd.add(cmd.size() - 2, "-XX:TieredStopAtLevel=1");
        cmd.add("dev.triage.tools.cli.TriageTools");
        cmd.add("llm-server");
        cmd.add("--port");
        cmd.add(String.valueOf(port));
        cmd.add("--triager");
        cmd.add("rules");
        cmd.addAll(scenario.simulator());
        Process p = start(cmd, setup.logDir().resolve(id + "-llm-server.log"));
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            try {
                if (SimulatorHttp.get(port, "/health").statusCode() == 200) {
                    return p;
                }
            } catch (IOException e) {
                // not up yet
            }
            if (!p.isAlive() || System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("the model server did not start; see its log");
            }
            Thread.sleep(100);
        }
    }

    Process startPipeline(int port, String tickets, String results, String dlq) throws IOException {
        String cp =
                pipeline == Pipeline.SQL_ML_PREDICT
                        ? setup.classpath() + java.io.File.pathSeparator + setup.sqlClasspath()
                        : setup.classpath();
        List<String> cmd = new ArrayList<>(java(cp, "1g"));
        cmd.addAll(1, setup.pipelineJvmOptions());
        cmd.add(BenchPipelineMain.class.getName());
        cmd.add(pipeline.id());
        cmd.add(String.valueOf(setup.parallelism()));
        cmd.add(setup.settingsFile().toString());
        cmd.add("kafka.bootstrap-servers=" + setup.bootstrap());
        cmd.add("kafka.group-id=" + id);
        cmd.add("kafka.topics.tickets=" + tickets);
        cmd.add("kafka.topics.results=" + results);
        cmd.add("kafka.topics.dlq=" + dlq);
        cmd.add("kafka.transactional-id-prefix=" + id);
        cmd.add("llm.base-url=http://127.0.0.1:" + port + "/v1");
        cmd.add("customers.enabled=false");
        cmd.add("session.max-in-flight=" + inFlight);
        cmd.addAll(scenario.jobSettings());
        return start(cmd, pipelineLog());
    }

    private Path pipelineLog() {
        return setup.logDir().resolve(id + ".log");
    }

    /** Failovers of a Flink pipeline, counted in its log. */
    int restarts() {
        try {
            return (int)
                    Files.readAllLines(pipelineLog()).stream()
                            .filter(l -> l.contains("to RESTARTING"))
                            .count();
        } catch (IOException e) {
            return 0;
        }
    }

    private List<String> java(String classpath, String heap) {
        return List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap,
                "-Dlog4j2.configurationFile=" + setup.logConfig(),
                "-cp",
                classpath);
    }

    private static Process start(List<String> cmd, Path log) throws IOException {
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    static void stop(Process p) throws InterruptedException {
        if (p == null) {
            return;
        }
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
