package dev.triage.tools.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.prompt.TicketBlock;
import dev.triage.records.Ticket;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The local model with the real embedding model (ONNX, loaded once for the class). */
class EmbeddingTriagerTest {

    private static final List<String> DEFAULT =
            List.of("billing", "technical", "account", "shipping", "other");
    private static final String SYSTEM =
            "Triage.\n\nCategories:\n- billing: Invoices, charges, refunds.\n- technical: Errors,"
                    + " bugs, outages.\n- account: Login, password.\n- shipping: Orders, delivery.\n"
                    + "- other: Anything else.\n";

    private static EmbeddingTriager model;

    @BeforeAll
    static void load() throws Exception {
        model = EmbeddingTriager.load(null, 20);
    }

    /** The ticket as the local model server reads it from a request's data block. */
    private static TicketBlock.Contents block(String body) {
        return TicketBlock.read(
                TicketBlock.of(
                        new Ticket("T-1", "S-1", null, "email", null, body, 0L, "t", 0, 0L), true));
    }

    private static ObjectNode ask(String body) {
        return model.triage(DEFAULT, SYSTEM, block(body), 0);
    }

    @Test
    void classifiesUnambiguousTicketsWithTheShippedExamples() {
        assertThat(
                        ask("I was charged twice this month, please refund the extra payment.")
                                .get("category")
                                .asText())
                .isEqualTo("billing");
        assertThat(
                        ask("The app crashes with an error every time I open the settings.")
                                .get("category")
                                .asText())
                .isEqualTo("technical");
        assertThat(
                        ask("I forgot my password and cannot sign in to my account.")
                                .get("category")
                                .asText())
                .isEqualTo("account");
        assertThat(
                        ask("My parcel has not arrived and the tracking has not moved for a week.")
                                .get("category")
                                .asText())
                .isEqualTo("shipping");
        assertThat(ask("I would like to subscribe to your newsletter.").get("category").asText())
                .isEqualTo("other");
    }

    @Test
    void answersFollowTheSchemaAndTheDocumentedRules() {
        ObjectNode urgent = ask("URGENT: someone hacked my account and changed my email.");
        assertThat(urgent.get("priority").asText()).isEqualTo("urgent");
        ObjectNode angry = ask("This is unacceptable, my order is late again and nobody answers.");
        assertThat(angry.get("sentiment").asText()).isEqualTo("negative");
        assertThat(angry.get("summary").asText())
                .isEqualTo("This is unacceptable, my order is late again and nobody answers.");
        assertThat(angry.get("draft_reply").asText()).startsWith("Thanks for contacting us.");
        assertThat(angry.get("confidence").asDouble()).isBetween(0.0, 1.0);
        ObjectNode followUp = model.triage(DEFAULT, SYSTEM, block("Any news on my refund?"), 2);
        assertThat(followUp.get("draft_reply").asText()).startsWith("Thanks for following up");
    }

    @Test
    void answersOnlyWithAllowedCategoriesAndUsesDescriptionsWithoutExamples() {
        List<String> allowed = List.of("refunds", "deliveries");
        String system =
                "Triage.\n\nCategories:\n- refunds: Money back for returned or cancelled"
                        + " purchases.\n- deliveries: Where a parcel is, late or lost packages.\n";
        ObjectNode a = model.triage(allowed, system, block("Where is my package? It is late."), 0);
        assertThat(a.get("category").asText()).isEqualTo("deliveries");
        ObjectNode b =
                model.triage(allowed, system, block("I want my money back for the return."), 0);
        assertThat(b.get("category").asText()).isEqualTo("refunds");
    }

    @Test
    void examplesFromAFileReplaceTheShippedOnesUpToKPerClass(@TempDir Path dir) throws Exception {
        String csv =
                "text,label\n"
                        + "\"The invoice total is wrong\",INVOICE\n"
                        + "\"Send me my invoice\",INVOICE\n"
                        + "\"third invoice example\",INVOICE\n"
                        + "\"Cancel my order please\",ORDER\n";
        assertThat(EmbeddingTriager.readExamples(new StringReader(csv), "text", "label", 2))
                .extracting(EmbeddingTriager.Example::label)
                .containsExactly("INVOICE", "INVOICE", "ORDER");
        Path file = dir.resolve("examples.csv");
        Files.writeString(file, csv);
        EmbeddingTriager own = EmbeddingTriager.load(file, 2);
        assertThat(own.labels()).containsExactly("invoice", "order");
        ObjectNode a =
                own.triage(
                        List.of("INVOICE", "ORDER"),
                        "",
                        block("I need to cancel the order I placed yesterday"),
                        0);
        assertThat(a.get("category").asText()).isEqualTo("ORDER");
    }
}
