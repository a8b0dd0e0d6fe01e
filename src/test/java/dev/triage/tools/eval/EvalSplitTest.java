package dev.triage.tools.eval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.tools.simulator.EmbeddingTriager;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

/** How the labelled data is split into examples and a test set. */
class EvalSplitTest {

    @TempDir Path dir;

    private Path data() throws Exception {
        StringBuilder csv = new StringBuilder("text,label\n");
        for (int i = 0; i < 5; i++) {
            csv.append("refund please ").append(i).append(",billing\n");
            csv.append("where is parcel ").append(i).append(",shipping\n");
        }
        return Files.writeString(dir.resolve("data.csv"), csv);
    }

    @Test
    void examplesTakenFromTheDataLeaveTheTestSetAndAreFirstPerClass() throws Exception {
        Path data = data();
        EvalSplit.Split split = EvalSplit.split(data, "text", "label", data, 2, 7, 0);

        assertThat(split.labels()).containsExactly("billing", "shipping");
        assertThat(split.examples()).hasSize(4);
        assertThat(split.examples().stream().filter(e -> e.label().equals("billing"))).hasSize(2);
        assertThat(split.test()).hasSize(6);
        assertThat(split.test().get(0).id()).isEqualTo("EVAL-000001");
        assertThat(split.test())
                .extracting(EvalSplit.Case::text)
                .doesNotContainAnyElementsOf(
                        split.examples().stream().map(EmbeddingTriager.Example::text).toList());
        assertThat(EvalSplit.split(data, "text", "label", data, 2, 7, 0)).isEqualTo(split);
    }

    @Test
    void withoutExamplesTheWholeDataIsTheTestSetUpToTheLimit() throws Exception {
        EvalSplit.Split split = EvalSplit.split(data(), "text", "label", null, 2, 7, 3);
        assertThat(split.examples()).isEmpty();
        assertThat(split.test()).hasSize(3);
    }

    @Test
    void writtenExamplesAreATextAndLabelCsv() throws Exception {
        Path file = dir.resolve("examples.csv");
        EvalSplit.writeExamples(
                java.util.List.of(new EmbeddingTriager.Example("a, b", "billing")), file);
        assertThat(Files.readAllLines(file)).containsExactly("text,label", "\"a, b\",billing");
    }
}
