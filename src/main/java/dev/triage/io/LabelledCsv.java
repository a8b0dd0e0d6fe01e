package dev.triage.io;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Labelled texts from CSV with a header row (examples, few-shot prompts, evaluation data): the
 * rows' text and label, stripped, blank rows skipped, at most {@code perClass} per label (0: all),
 * in file order.
 */
public final class LabelledCsv {

    /** One labelled text. */
    public record Row(String text, String label) {}

    private LabelledCsv() {}

    public static List<Row> read(Reader csv, String textColumn, String labelColumn, int perClass)
            throws IOException {
        List<Row> out = new ArrayList<>();
        Map<String, Integer> counts = new HashMap<>();
        try (MappingIterator<Map<String, String>> rows =
                new CsvMapper()
                        .readerForMapOf(String.class)
                        .with(CsvSchema.emptySchema().withHeader())
                        .readValues(csv)) {
            while (rows.hasNext()) {
                Map<String, String> row = rows.next();
                if (!row.containsKey(textColumn) || !row.containsKey(labelColumn)) {
                    throw new IOException(
                            "no column '"
                                    + textColumn
                                    + "' or '"
                                    + labelColumn
                                    + "'; the columns are "
                                    + row.keySet());
                }
                String text = row.get(textColumn);
                String label = row.get(labelColumn);
                if (text == null || label == null || text.isBlank() || label.isBlank()) {
                    continue;
                }
                if (perClass <= 0 || counts.merge(label.strip(), 1, Integer::sum) <= perClass) {
                    out.add(new Row(text.strip(), label.strip()));
                }
            }
        }
        return out;
    }
}
