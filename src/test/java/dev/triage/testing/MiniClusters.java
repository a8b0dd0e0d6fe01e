package dev.triage.testing;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;

/** The MiniCluster the ITCases run the job on: RocksDB, two slots per TaskManager. */
public final class MiniClusters {

    private MiniClusters() {}

    public static MiniClusterExtension rocksDb(int taskManagers) {
        return rocksDb(taskManagers, new Configuration());
    }

    /** With {@code extra} cluster settings on top of the RocksDB state backend. */
    public static MiniClusterExtension rocksDb(int taskManagers, Configuration extra) {
        Configuration conf = new Configuration(extra);
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        return new MiniClusterExtension(
                new MiniClusterResourceConfiguration.Builder()
                        .setNumberTaskManagers(taskManagers)
                        .setNumberSlotsPerTaskManager(2)
                        .setConfiguration(conf)
                        .build());
    }
}
