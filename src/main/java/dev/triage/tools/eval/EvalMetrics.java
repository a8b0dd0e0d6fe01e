package dev.triage.tools.eval;

import dev.triage.io.Json;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Classification quality from (expected, predicted) pairs: accuracy, per-class precision, recall,
 * F1 and support, macro-F1 (the unweighted mean of the per-class F1), and the confusion matrix
 * (rows: expected, columns: predicted). A prediction outside the labels (a dead letter, an error)
 * counts as wrong and gets its own column, "(none)".
 */
public final class EvalMetrics {

    public static final String NONE = "(none)";

    private final List<String> labels;
    private final long[][] confusion; // [expected][predicted], last column: NONE
    private long total;

    public EvalMetrics(List<String> labels) {
        this.labels = List.copyOf(labels);
        this.confusion = new long[labels.size()][labels.size() + 1];
    }

    public void add(String expected, String predicted) {
        int row = labels.indexOf(expected);
        if (row < 0) {
            throw new IllegalArgumentException("unknown label " + expected);
        }
        int col = predicted == null ? -1 : labels.indexOf(predicted);
        confusion[row][col < 0 ? labels.size() : col]++;
        total++;
    }

    public List<String> labels() {
        return labels;
    }

    public long total() {
        return total;
    }

    public long count(int expected, int predicted) {
        return confusion[expected][predicted];
    }

    public double accuracy() {
        long correct = 0;
        for (int i = 0; i < labels.size(); i++) {
            correct += confusion[i][i];
        }
        return total == 0 ? 0 : correct / (double) total;
    }

    public long support(int c) {
        return Arrays.stream(confusion[c]).sum();
    }

    /** Of the tickets predicted as c, the share labelled c (0 when none was predicted as c). */
    public double precision(int c) {
        long predicted = 0;
        for (long[] row : confusion) {
            predicted += row[c];
        }
        return predicted == 0 ? 0 : confusion[c][c] / (double) predicted;
    }

    /** Of the tickets labelled c, the share predicted as c. */
    public double recall(int c) {
        long s = support(c);
        return s == 0 ? 0 : confusion[c][c] / (double) s;
    }

    public double f1(int c) {
        double p = precision(c);
        double r = recall(c);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /** The mean F1 over the labels that occur in the data. */
    public double macroF1() {
        double sum = 0;
        int n = 0;
        for (int c = 0; c < labels.size(); c++) {
            if (support(c) > 0) {
                sum += f1(c);
                n++;
            }
        }
        return n == 0 ? 0 : sum / n;
    }

    public ObjectNode toJson() {
        ObjectNode root = Json.object();
        root.put("tickets", total);
        root.put("accuracy", round(accuracy()));
        root.put("macro_f1", round(macroF1()));
        ObjectNode perClass = root.putObject("per_class");
        for (int c = 0; c < labels.size(); c++) {
            perClass.putObject(labels.get(c))
                    .put("precision", round(precision(c)))
                    .put("recall", round(recall(c)))
                    .put("f1", round(f1(c)))
                    .put("support", support(c));
        }
        ObjectNode matrix = root.putObject("confusion");
        ArrayNode columns = matrix.putArray("columns");
        labels.forEach(columns::add);
        columns.add(NONE);
        ArrayNode rows = matrix.putArray("rows");
        for (int c = 0; c < labels.size(); c++) {
            ArrayNode row = rows.addArray();
            for (long n : confusion[c]) {
                row.add(n);
            }
        }
        return root;
    }

    /** The confusion matrix as a Markdown table. */
    public String confusionMarkdown() {
        StringBuilder sb = new StringBuilder("| expected \\ predicted |");
        List<String> columns = new ArrayList<>(labels);
        columns.add(NONE);
        columns.forEach(c -> sb.append(' ').append(c).append(" |"));
        sb.append("\n|---|");
        columns.forEach(c -> sb.append("---:|"));
        sb.append('\n');
        for (int r = 0; r < labels.size(); r++) {
            sb.append("| ").append(labels.get(r)).append(" |");
            for (long n : confusion[r]) {
                sb.append(' ').append(n).append(" |");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static double round(double v) {
        return Math.round(v * 10_000) / 10_000.0;
    }

    static String pct(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }
}
