package dev.triage.ingest;

import dev.triage.config.CustomerSettings;
import dev.triage.metrics.MetricNames;
import dev.triage.records.CustomerContext;
import dev.triage.records.CustomerEvent;
import dev.triage.records.CustomerProfile;
import dev.triage.records.PastTicket;
import dev.triage.records.Ticket;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

import java.util.ArrayList;
import java.util.List;

/**
 * The customer-context join, keyed by customer id: tickets on one side; profiles (from the
 * compacted customers topic) and outcomes of the customer's earlier tickets (from the results
 * topic) on the other. Each ticket leaves with a {@link CustomerContext}: the profile and the most
 * recent earlier tickets across sessions.
 *
 * <p>A ticket whose customer has no profile yet waits for it, in keyed state, at most {@code
 * profileWait} (a processing-time timer); the customer's later tickets wait behind it, so the
 * customer's (and so each session's) order is kept. When the profile arrives they all go on with
 * it; when the wait is over they go on without it. Nothing is held forever, and nothing is dropped.
 *
 * <p>The waiting tickets are a {@link ListState} that each ticket is appended to (one element
 * written, a merge on RocksDB), so a flood for one unknown customer costs O(1) state writes per
 * ticket; the deadline of the wait is kept beside it, so that the timer is deleted when the profile
 * arrives first and a stale timer never cuts a later wait short.
 */
public class CustomerEnricher
        extends KeyedCoProcessFunction<String, Ticket, CustomerEvent, Ticket> {

    private static final long serialVersionUID = 1L;

    private final CustomerSettings settings;

    private transient ValueState<CustomerProfile> profile;
    private transient ValueState<List<PastTicket>> history;
    private transient ListState<Ticket> waiting;
    private transient ValueState<Long> waitDeadline;

    /** The waiting list as version 0.1 kept it, rewritten whole per ticket; drained on use. */
    private transient ValueState<List<Ticket>> legacyWaiting;

    /** Deadline of a wait whose timer an earlier version registered, at a time not recorded. */
    private static final long LEGACY_TIMER = Long.MIN_VALUE;

    private transient Counter withoutProfile;
    private transient Counter enriched;

    public CustomerEnricher(CustomerSettings settings) {
        this.settings = settings;
    }

    @Override
    public void open(OpenContext openContext) {
        var profiles =
                new ValueStateDescriptor<>(
                        "customer-profile", TypeInformation.of(CustomerProfile.class));
        var recent =
                new ValueStateDescriptor<>(
                        "customer-history", new ListTypeInfo<>(PastTicket.class));
        recent.enableTimeToLive(
                StateTtlConfig.newBuilder(settings.historyTtl())
                        .updateTtlOnCreateAndWrite()
                        .neverReturnExpired()
                        .cleanupInRocksdbCompactFilter(1000)
                        .build());
        var legacy =
                new ValueStateDescriptor<>(
                        "tickets-waiting-for-profile", new ListTypeInfo<>(Ticket.class));
        profile = getRuntimeContext().getState(profiles);
        history = getRuntimeContext().getState(recent);
        waiting =
                getRuntimeContext()
                        .getListState(
                                new ListStateDescriptor<>(
                                        "customer-waiting-tickets",
                                        TypeInformation.of(Ticket.class)));
        waitDeadline =
                getRuntimeContext()
                        .getState(new ValueStateDescriptor<>("customer-wait-deadline", Types.LONG));
        legacyWaiting = getRuntimeContext().getState(legacy);
        withoutProfile =
                getRuntimeContext().getMetricGroup().counter(MetricNames.TICKETS_WITHOUT_PROFILE);
        enriched = getRuntimeContext().getMetricGroup().counter(MetricNames.TICKETS_WITH_PROFILE);
    }

    @Override
    public void processElement1(Ticket ticket, Context ctx, Collector<Ticket> out)
            throws Exception {
        migrateLegacyWaiting();
        boolean queued = waitDeadline.value() != null;
        CustomerProfile p = profile.value();
        if (p != null && !queued) {
            enriched.inc();
            out.collect(ticket.withCustomer(context(p)));
            return;
        }
        waiting.add(ticket);
        if (!queued) {
            long deadline =
                    ctx.timerService().currentProcessingTime() + settings.profileWait().toMillis();
            waitDeadline.update(deadline);
            ctx.timerService().registerProcessingTimeTimer(deadline);
        }
    }

    @Override
    public void processElement2(CustomerEvent event, Context ctx, Collector<Ticket> out)
            throws Exception {
        if (event.outcome() != null) {
            remember(event.outcome());
        } else if (event.deleted()) {
            profile.clear();
        } else if (event.profile() != null) {
            profile.update(event.profile());
            release(ctx, out, event.profile());
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Ticket> out)
            throws Exception {
        migrateLegacyWaiting();
        Long deadline = waitDeadline.value();
        if (deadline != null && (deadline == LEGACY_TIMER || deadline == timestamp)) {
            release(ctx, out, profile.value());
        }
    }

    /** Lets every waiting ticket go on, in order, with the profile (or without one). */
    private void release(Context ctx, Collector<Ticket> out, CustomerProfile p) throws Exception {
        migrateLegacyWaiting();
        Long deadline = waitDeadline.value();
        if (deadline == null) {
            return;
        }
        if (deadline != LEGACY_TIMER) {
            ctx.timerService().deleteProcessingTimeTimer(deadline);
        }
        CustomerContext context = context(p);
        Iterable<Ticket> queue = waiting.get();
        if (queue != null) {
            for (Ticket t : queue) {
                (p == null ? withoutProfile : enriched).inc();
                out.collect(t.withCustomer(context));
            }
        }
        waiting.clear();
        waitDeadline.clear();
    }

    /**
     * Moves a waiting list restored from version 0.1 into the append-only layout. Its timer was
     * restored with it and fires as before; its time was not recorded, so any timer releases it.
     */
    private void migrateLegacyWaiting() throws Exception {
        List<Ticket> old = legacyWaiting.value();
        if (old == null) {
            return;
        }
        legacyWaiting.clear();
        waiting.addAll(old);
        if (waitDeadline.value() == null) {
            waitDeadline.update(LEGACY_TIMER);
        }
    }

    private CustomerContext context(CustomerProfile p) throws Exception {
        List<PastTicket> recent = history.value();
        return new CustomerContext(p, recent == null ? List.of() : recent);
    }

    private void remember(PastTicket outcome) throws Exception {
        List<PastTicket> recent = history.value();
        List<PastTicket> updated = recent == null ? new ArrayList<>() : new ArrayList<>(recent);
        if (updated.stream().anyMatch(t -> t.ticketId().equals(outcome.ticketId()))) {
            return; // a result read twice
        }
        updated.add(outcome);
        updated.sort((a, b) -> Long.compare(a.createdAt(), b.createdAt()));
        while (updated.size() > settings.historySize()) {
            updated.remove(0);
        }
        history.update(updated);
    }
}
