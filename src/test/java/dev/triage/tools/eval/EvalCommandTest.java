package dev.triage.tools.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import javax.imageio.ImageIO;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** bin/triage eval --direct end to end on a small file: the real local model over HTTP. */
class EvalCommandTest {

    private static final String DATA =
            "ticket,topic\n"
                    + "\"Please send me the invoice for my last purchase\",INVOICE\n"
                    + "\"I need a copy of my invoice from March\",INVOICE\n"
                    + "\"Where can I download my invoices?\",INVOICE\n"
                    + "\"The invoice shows the wrong company name\",INVOICE\n"
                    + "\"My package has not been delivered yet\",DELIVERY\n"
                    + "\"When will my parcel arrive?\",DELIVERY\n"
                    + "\"The courier did not deliver my order today\",DELIVERY\n"
                    + "\"Tracking says delivered but I have no package\",DELIVERY\n"
                    + "\"I want to reset my password\",ACCOUNT\n"
                    + "\"How do I delete my account?\",ACCOUNT\n"
                    + "\"I cannot log in to my profile\",ACCOUNT\n"
                    + "\"Please change the email of my account\",ACCOUNT\n";

    @Test
    void writesReportsWhoseNumbersMatchThePredictions(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("tickets.csv");
        Files.writeString(data, DATA);
        Path out = dir.resolve("report");
        int rc =
                new CommandLine(new EvalCommand())
                        .execute(
                                "--direct",
                                "--data",
                                data.toString(),
                                "--text-column",
                                "ticket",
                                "--label-column",
                                "topic",
                                "--examples",
                                data.toString(),
                                "--per-class",
                                "1",
                                "--out",
                                out.toString());
        assertThat(rc).isZero();
        for (String f : List.of("report.md", "report.json", "predictions.csv", "confusion.png")) {
            assertThat(out.resolve(f)).exists();
        }
        assertThat(ImageIO.read(out.resolve("confusion.png").toFile()).getWidth()).isPositive();

        // Recompute from the per-ticket predictions, by hand.
        List<String> lines = Files.readAllLines(out.resolve("predictions.csv"));
        int total = 0;
        int correct = 0;
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", 4);
            total++;
            if (f[1].equals(f[2])) {
                correct++;
            }
        }
        JsonNode report = Json.MAPPER.readTree(out.resolve("report.json").toFile());
        assertThat(total).isEqualTo(9); // 12 tickets, one example per label split off
        assertThat(report.get("tickets").asInt()).isEqualTo(total);
        assertThat(report.get("accuracy").asDouble())
                .isCloseTo(correct / (double) total, within(1e-4));
        long inMatrix = 0;
        for (JsonNode row : report.at("/confusion/rows")) {
            for (JsonNode n : row) {
                inMatrix += n.asLong();
            }
        }
        assertThat(inMatrix).isEqualTo(total);
        assertThat(report.at("/per_class/INVOICE/support").asInt()).isEqualTo(3);
        assertThat(report.get("accuracy").asDouble()).as("unambiguous tickets").isGreaterThan(0.8);
        assertThat(report.at("/latency_ms/p50").asLong()).isPositive();
        assertThat(Files.readString(out.resolve("report.md")))
                .contains("| accuracy | " + String.format("%.4f", correct / (double) total));
    }
}
