package dev.triage.job;

import static dev.triage.config.TriageOptions.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.triage.testing.EmbeddedKafka;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;

/**
 * The checks at submission against a real broker: every topic the job reads or writes exists, and
 * the sinks' transaction timeout is one the broker accepts (transaction.max.timeout.ms, 15 min by
 * default), so that neither fails the job over again and again once it runs.
 */
class KafkaConnectorsITCase {

    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafka.start();
        kafka.createTopic("in", 1);
        kafka.createTopic("out", 1);
        kafka.createTopic("dead", 1);
    }

    @AfterAll
    static void stopBroker() throws Exception {
        kafka.close();
    }

    private static Configuration settings() {
        Configuration conf = new Configuration();
        conf.set(KAFKA_BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        conf.set(TICKETS_TOPIC, "in");
        conf.set(RESULTS_TOPIC, "out");
        conf.set(DLQ_TOPIC, "dead");
        conf.set(CUSTOMERS_ENABLED, false);
        conf.set(TRANSACTION_TIMEOUT, Duration.ofMinutes(10));
        return conf;
    }

    @Test
    void aJobWhoseTopicsAllExistAndWhoseTimeoutTheBrokerAllowsIsAccepted() throws Exception {
        KafkaConnectors.checkBeforeSubmission(settings());
    }

    @Test
    void aMissingDeadLetterTopicFailsTheSubmissionNamingIt() {
        Configuration conf = settings();
        conf.set(DLQ_TOPIC, "no-such-dlq");
        assertThatThrownBy(() -> KafkaConnectors.checkBeforeSubmission(conf))
                .hasMessageContaining("[no-such-dlq]")
                .hasMessageContaining("do not exist");
    }

    @Test
    void aMissingResultsTopicFailsTheSubmissionNamingIt() {
        Configuration conf = settings();
        conf.set(RESULTS_TOPIC, "no-such-results");
        assertThatThrownBy(() -> KafkaConnectors.checkBeforeSubmission(conf))
                .hasMessageContaining("[no-such-results]");
    }

    @Test
    void aTransactionTimeoutAboveTheBrokersMaximumFailsTheSubmissionClearly() {
        Configuration conf = settings();
        conf.set(TRANSACTION_TIMEOUT, Duration.ofDays(7));
        assertThatThrownBy(() -> KafkaConnectors.checkBeforeSubmission(conf))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("kafka.transaction-timeout")
                .hasMessageContaining("transaction.max.timeout.ms")
                .hasMessageContaining("900000");
    }

    @Test
    void theBrokersTransactionMaximumIsRead() throws Exception {
        assertThat(KafkaConnectors.brokerTransactionMaxTimeoutMs(settings()))
                .hasValue(Duration.ofMinutes(15).toMillis());
    }
}
