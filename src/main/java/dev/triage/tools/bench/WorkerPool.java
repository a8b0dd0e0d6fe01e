package dev.triage.tools.bench;

import static dev.triage.config.TriageOptions.DLQ_TOPIC;
import static dev.triage.config.TriageOptions.KAFKA_BOOTSTRAP_SERVERS;
import static dev.triage.config.TriageOptions.KAFKA_GROUP_ID;
import static dev.triage.config.TriageOptions.LLM_MAX_ATTEMPTS;
import static dev.triage.config.TriageOptions.LLM_RETRY_INITIAL_BACKOFF;
import static dev.triage.config.TriageOptions.LLM_RETRY_MAX_BACKOFF;
import static dev.triage.config.TriageOptions.MAX_BODY_BYTES;
import static dev.triage.config.TriageOptions.MAX_IN_FLIGHT;
import static dev.triage.config.TriageOptions.RESULTS_TOPIC;
import static dev.triage.config.TriageOptions.TICKETS_TOPIC;

import dev.triage.config.LlmSettings;
import dev.triage.config.PromptSettings;
import dev.triage.ingest.TicketParser;
import dev.triage.records.DeadLetter;
import dev.triage.records.DeadLetterSerializer;
import dev.triage.records.RawTicket;
import dev.triage.records.Ticket;
import dev.triage.records.TriageResultSerializer;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The classic hand-rolled alternative: one Kafka consumer feeding asynchronous calls, bounded by a
 * semaphore of {@code parallelism × session.max-in-flight} permits, results written by an
 * idempotent producer, offsets committed once every record below them is done (at-least-once).
 * Retries back off exponentially up to {@code llm.max-attempts}; a ticket out of attempts goes to
 * the dead-letter topic. What it does not do: keep a session's tickets in order, keep history,
 * write exactly once, limit its request rate.
 */
final class WorkerPool implements AutoCloseable {

    private final Configuration conf;
    private final BaselineTriage triage;
    private final TicketParser parser;
    private final Semaphore permits;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<String, String> producer;
    private final ScheduledExecutorService retries =
            Executors.newSingleThreadScheduledExecutor(
                    r -> {
                        Thread t = new Thread(r, "worker-pool-retries");
                        t.setDaemon(true);
                        return t;
                    });

    /** Offsets polled but not done yet, per partition: the lowest is the next to commit. */
    private final Map<TopicPartition, ConcurrentSkipListSet<Long>> pending =
            new ConcurrentHashMap<>();

    private final Map<TopicPartition, Long> polledUpTo = new HashMap<>();

    WorkerPool(Configuration conf, int parallelism) {
        this.conf = conf;
        this.triage =
                new BaselineTriage(LlmSettings.primary(conf), PromptSettings.from(conf)).open();
        this.parser = new TicketParser(conf.get(MAX_BODY_BYTES));
        this.permits = new Semaphore(parallelism * conf.get(MAX_IN_FLIGHT));
        Properties c = new Properties();
        c.put("bootstrap.servers", conf.get(KAFKA_BOOTSTRAP_SERVERS));
        c.put("group.id", conf.get(KAFKA_GROUP_ID));
        c.put("enable.auto.commit", "false");
        c.put("auto.offset.reset", "earliest");
        c.put("isolation.level", "read_committed");
        this.consumer =
                new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        Properties p = new Properties();
        p.put("bootstrap.servers", conf.get(KAFKA_BOOTSTRAP_SERVERS));
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("linger.ms", "5");
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /** Polls, calls and writes until the JVM is stopped. */
    void run() throws InterruptedException {
        consumer.subscribe(List.of(conf.get(TICKETS_TOPIC)));
        long nextCommit = System.currentTimeMillis() + 1000;
        while (!Thread.currentThread().isInterrupted()) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                pending.computeIfAbsent(tp, k -> new ConcurrentSkipListSet<>()).add(r.offset());
                polledUpTo.put(tp, r.offset() + 1);
                permits.acquire();
                handle(tp, r);
            }
            if (System.currentTimeMillis() >= nextCommit) {
                commitDone();
                nextCommit = System.currentTimeMillis() + 1000;
            }
        }
    }

    private void handle(TopicPartition tp, ConsumerRecord<byte[], byte[]> r) {
        RawTicket raw =
                new RawTicket(r.topic(), r.partition(), r.offset(), r.timestamp(), r.value());
        Ticket ticket;
        try {
            ticket = parser.parse(raw);
        } catch (TicketParser.Rejected e) {
            DeadLetter d =
                    DeadLetter.ofRaw(
                            e.reason(),
                            e.getMessage(),
                            null,
                            null,
                            raw,
                            System.currentTimeMillis());
            producer.send(
                    new ProducerRecord<>(conf.get(DLQ_TOPIC), DeadLetterSerializer.toJson(d)),
                    (m, err) -> done(tp, r.offset()));
            return;
        }
        call(tp, r.offset(), ticket, 1);
    }

    private void call(TopicPartition tp, long offset, Ticket ticket, int attempt) {
        triage.triage(ticket, attempt)
                .whenComplete(
                        (result, error) -> {
                            if (error == null) {
                                sendThenDone(
                                        RESULTS_TOPIC,
                                        ticket,
                                        TriageResultSerializer.toJson(result),
                                        tp,
                                        offset);
                            } else if (attempt < conf.get(LLM_MAX_ATTEMPTS)) {
                                long backoff =
                                        Math.min(
                                                conf.get(LLM_RETRY_INITIAL_BACKOFF).toMillis()
                                                        << (attempt - 1),
                                                conf.get(LLM_RETRY_MAX_BACKOFF).toMillis());
                                retries.schedule(
                                        () -> call(tp, offset, ticket, attempt + 1),
                                        backoff,
                                        TimeUnit.MILLISECONDS);
                            } else {
                                DeadLetter d =
                                        DeadLetter.ofTicket(
                                                DeadLetter.Reason.LLM_UNAVAILABLE,
                                                String.valueOf(error.getMessage()),
                                                ticket,
                                                null,
                                                System.currentTimeMillis());
                                sendThenDone(
                                        DLQ_TOPIC,
                                        ticket,
                                        DeadLetterSerializer.toJson(d),
                                        tp,
                                        offset);
                            }
                        });
    }

    /** Sends an output keyed by the ticket's session; the offset is done once it is written. */
    private void sendThenDone(
            ConfigOption<String> topic,
            Ticket ticket,
            String json,
            TopicPartition tp,
            long offset) {
        producer.send(
                new ProducerRecord<>(conf.get(topic), ticket.sessionId(), json),
                (m, err) -> done(tp, offset));
    }

    private void done(TopicPartition tp, long offset) {
        pending.get(tp).remove(offset);
        permits.release();
    }

    private void commitDone() {
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
        for (Map.Entry<TopicPartition, Long> e : polledUpTo.entrySet()) {
            ConcurrentSkipListSet<Long> open = pending.get(e.getKey());
            Long lowestOpen = open.isEmpty() ? null : open.first();
            commit.put(
                    e.getKey(),
                    new OffsetAndMetadata(lowestOpen != null ? lowestOpen : e.getValue()));
        }
        if (!commit.isEmpty()) {
            consumer.commitSync(commit);
        }
    }

    @Override
    public void close() {
        consumer.close();
        producer.close();
        triage.close();
        retries.shutdownNow();
    }
}
