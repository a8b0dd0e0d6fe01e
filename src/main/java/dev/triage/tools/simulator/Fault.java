package dev.triage.tools.simulator;

/** One kind of fault a provider has: what happens to a chat request instead of its answer. */
interface Fault {

    /** The refusal of {@code call}, counted, or null to let it through. */
    Refusal apply(ChatCall call);
}
