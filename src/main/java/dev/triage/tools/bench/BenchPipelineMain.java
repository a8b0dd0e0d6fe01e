package dev.triage.tools.bench;

import dev.triage.config.JobSettings;
import dev.triage.job.TriageJob;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.nio.file.Files;
import java.util.Arrays;
import java.util.Map;

/**
 * One benchmarked pipeline in its own JVM, so its CPU time is its own: {@code BenchPipelineMain
 * PIPELINE PARALLELISM settings.yaml [key=value ...]}. Flink pipelines run on a local MiniCluster
 * with the RocksDB state backend and a checkpoint every 2 s (as the local cluster in {@code
 * flink-conf/}); the worker pool runs as plain threads. Runs until killed.
 */
public final class BenchPipelineMain {

    private BenchPipelineMain() {}

    public static void main(String[] args) throws Exception {
        Pipeline pipeline = Pipeline.of(args[0]);
        int parallelism = Integer.parseInt(args[1]);
        Configuration conf = JobSettings.fromArgs(Arrays.copyOfRange(args, 2, args.length));
        if (pipeline == Pipeline.WORKER_POOL) {
            try (WorkerPool pool = new WorkerPool(conf, parallelism)) {
                pool.run();
            }
            return;
        }
        Configuration cluster =
                Configuration.fromMap(
                        Map.of(
                                "state.backend.type", "rocksdb",
                                "execution.checkpointing.dir",
                                        Files.createTempDirectory("bench-checkpoints")
                                                .toUri()
                                                .toString(),
                                "execution.checkpointing.interval", "2s",
                                "execution.checkpointing.min-pause", "500ms",
                                "execution.checkpointing.mode", "EXACTLY_ONCE",
                                "execution.checkpointing.incremental", "true",
                                "restart-strategy.type", "exponential-delay",
                                // What the triage job sets for itself, for every pipeline alike.
                                "pipeline.object-reuse", "true"));
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(parallelism, cluster);
        if (pipeline == Pipeline.TRIAGE) {
            TriageJob.build(env, conf);
        } else {
            BaselineJobs.define(pipeline, env, conf);
        }
        env.execute("bench-" + pipeline.id());
    }
}
