package dev.triage.tools.bench;

import java.util.List;
import java.util.Map;

/**
 * One benchmark scenario: how the simulated provider behaves, what load arrives, which pipelines
 * run it, and what this job must reach.
 *
 * @param name id in the report and on the command line
 * @param title one line for the report
 * @param simulator flags for the model server ({@code bin/triage llm-server --help})
 * @param jobSettings settings for every pipeline on top of the job file ({@code key=value})
 * @param tickets tickets measured
 * @param sessions sessions they are spread over
 * @param hotShare share of the tickets in one session
 * @param ratePerSecond tickets produced per second; 0: all at once (a backlog)
 * @param outageAtSeconds when an outage starts after the load does; negative: none
 * @param outageSeconds how long it lasts
 * @param limitPerSecond the ceiling to compare throughput with (Little's law or the provider's rate
 *     limit); 0: none
 * @param pipelines who runs it, this job first
 * @param ticketsFor a different ticket count for some pipelines (a slow peer, a fast floor)
 * @param timeoutSeconds a run still short of its tickets after this long is reported unfinished
 * @param warmUpTickets tickets sent and answered before the measurement starts
 */
record Scenario(
        String name,
        String title,
        List<String> simulator,
        List<String> jobSettings,
        int tickets,
        int sessions,
        double hotShare,
        double ratePerSecond,
        int outageAtSeconds,
        int outageSeconds,
        double limitPerSecond,
        List<Pipeline> pipelines,
        Map<Pipeline, Integer> ticketsFor,
        int timeoutSeconds,
        int warmUpTickets) {

    int ticketsFor(Pipeline p) {
        return ticketsFor.getOrDefault(p, tickets);
    }

    boolean paced() {
        return ratePerSecond > 0;
    }

    /** The same scenario for other pipelines or another calls-in-flight setting. */
    Scenario with(
            String name,
            List<Pipeline> pipelines,
            List<String> jobSettings,
            double limit,
            int tickets) {
        return new Scenario(
                name,
                title,
                simulator,
                jobSettings,
                tickets,
                sessions,
                hotShare,
                ratePerSecond,
                outageAtSeconds,
                outageSeconds,
                limit,
                pipelines,
                Map.of(),
                timeoutSeconds,
                warmUpTickets);
    }
}
