package dev.triage.tools.eval;

import dev.triage.io.LabelledCsv;
import dev.triage.tools.simulator.EmbeddingTriager;

import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/** The evaluation's data: labelled tickets split into a test set and the examples taken out. */
public final class EvalSplit {

    /** One labelled ticket of the test set. */
    public record Case(String id, String text, String label) {}

    /** The test set, the examples taken out of it (if any), and the labels. */
    public record Split(
            List<Case> test, List<EmbeddingTriager.Example> examples, List<String> labels) {}

    private EvalSplit() {}

    /**
     * Reads the labelled data. With {@code examples} equal to {@code data}, the first {@code
     * perClass} tickets of each label (after a seeded shuffle) become the examples and the rest the
     * test set; with another examples file, its first {@code perClass} per label are the examples
     * and all of the data is the test set; without one, there are no examples.
     */
    public static Split split(
            Path data,
            String textColumn,
            String labelColumn,
            Path examples,
            int perClass,
            long seed,
            int limit)
            throws IOException {
        List<String[]> rows = readRows(data, textColumn, labelColumn);
        List<EmbeddingTriager.Example> ex = new ArrayList<>();
        List<String[]> test = new ArrayList<>();
        if (examples != null && Files.isSameFile(examples, data)) {
            Collections.shuffle(rows, new Random(seed));
            Map<String, Integer> taken = new HashMap<>();
            for (String[] r : rows) {
                if (taken.merge(r[1], 1, Integer::sum) <= perClass) {
                    ex.add(new EmbeddingTriager.Example(r[0], r[1]));
                } else {
                    test.add(r);
                }
            }
        } else {
            if (examples != null) {
                for (String[] r : readRows(examples, textColumn, labelColumn)) {
                    ex.add(new EmbeddingTriager.Example(r[0], r[1]));
                }
                ex = firstPerClass(ex, perClass);
            }
            test.addAll(rows);
            Collections.shuffle(test, new Random(seed));
        }
        if (limit > 0 && test.size() > limit) {
            test = new ArrayList<>(test.subList(0, limit));
        }
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < test.size(); i++) {
            cases.add(new Case(String.format("EVAL-%06d", i + 1), test.get(i)[0], test.get(i)[1]));
        }
        TreeSet<String> labels = new TreeSet<>();
        rows.forEach(r -> labels.add(r[1]));
        return new Split(cases, ex, List.copyOf(labels));
    }

    /** Writes examples as a CSV (text, label) for the model server's --examples. */
    public static void writeExamples(List<EmbeddingTriager.Example> examples, Path file)
            throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            CsvSchema schema =
                    CsvSchema.builder().addColumn("text").addColumn("label").build().withHeader();
            List<List<String>> rows = new ArrayList<>();
            examples.forEach(e -> rows.add(List.of(e.text(), e.label())));
            new CsvMapper().writer(schema).writeValues(w).writeAll(rows);
        }
    }

    private static List<EmbeddingTriager.Example> firstPerClass(
            List<EmbeddingTriager.Example> all, int k) {
        if (k <= 0) {
            return all;
        }
        Map<String, Integer> n = new HashMap<>();
        List<EmbeddingTriager.Example> out = new ArrayList<>();
        for (var e : all) {
            if (n.merge(e.label(), 1, Integer::sum) <= k) {
                out.add(e);
            }
        }
        return out;
    }

    private static List<String[]> readRows(Path file, String textColumn, String labelColumn)
            throws IOException {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            List<String[]> rows = new ArrayList<>();
            for (LabelledCsv.Row r : LabelledCsv.read(in, textColumn, labelColumn, 0)) {
                rows.add(new String[] {r.text(), r.label()});
            }
            return rows;
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }
}
