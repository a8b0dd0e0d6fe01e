package dev.triage.tools.bench;

import dev.triage.records.Ticket;
import dev.triage.records.TriageResult;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import java.util.List;

/**
 * The async function a user of Flink's stock Async I/O would write: one call per ticket with the
 * same client, prompt and parser as this job; a failed call fails the attempt, and the operator's
 * retry strategy decides what happens next.
 */
final class StockAsyncTriage extends RichAsyncFunction<Ticket, TriageResult> {

    private static final long serialVersionUID = 1L;

    private final BaselineTriage triage;

    StockAsyncTriage(BaselineTriage triage) {
        this.triage = triage;
    }

    @Override
    public void open(OpenContext openContext) {
        triage.open();
    }

    @Override
    public void asyncInvoke(Ticket ticket, ResultFuture<TriageResult> out) {
        triage.triage(ticket, 1)
                .whenComplete(
                        (result, error) -> {
                            if (error != null) {
                                out.completeExceptionally(error);
                            } else {
                                out.complete(List.of(result));
                            }
                        });
    }

    @Override
    public void close() {
        triage.close();
    }
}
