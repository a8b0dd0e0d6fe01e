package dev.triage.tools.eval;

import dev.triage.config.LlmSettings;
import dev.triage.config.PromptSettings;
import dev.triage.tools.simulator.EmbeddingTriager;
import dev.triage.tools.simulator.LocalModelServer;
import dev.triage.tools.simulator.ProviderProfile;
import dev.triage.tools.simulator.RuleBasedTriager;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code bin/triage eval}: triage quality on labelled tickets. {@code --direct} runs everything
 * here (the local model in-process, or any endpoint); otherwise {@code bin/triage} runs {@code
 * --prepare} (split, examples for the model server, settings for the job), submits an evaluation
 * job, then {@code --pipeline} (send through Kafka, read the committed results, report).
 */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = "Evaluate triage quality on a labelled CSV file.")
public final class EvalCommand implements Callable<Integer> {

    @Option(
            names = "--data",
            required = true,
            description = "Labelled tickets (CSV with a header).")
    Path data;

    @Option(names = "--text-column", defaultValue = "text")
    String textColumn;

    @Option(names = "--label-column", defaultValue = "label")
    String labelColumn;

    @Option(
            names = "--examples",
            description =
                    "Labelled examples for the local model (CSV, same columns). The same file as"
                            + " --data: the first --per-class of each label are split off as examples.")
    Path examples;

    @Option(names = "--per-class", defaultValue = "20")
    int perClass;

    @Option(names = "--limit", defaultValue = "0", description = "Test at most N tickets (0: all).")
    int limit;

    @Option(names = "--seed", defaultValue = "42")
    long seed;

    @Option(names = "--out", defaultValue = "target/eval", description = "Report folder.")
    Path out;

    @Option(
            names = "--direct",
            description = "Call the endpoint directly, without Kafka and Flink.")
    boolean direct;

    @Option(
            names = "--endpoint",
            description = "An OpenAI-compatible base URL (default: the local model, started here).")
    String endpoint;

    @Option(names = "--model", defaultValue = "local-triage")
    String model;

    @Option(names = "--api-key-env", defaultValue = "", description = "Variable with the key.")
    String apiKeyEnv;

    @Option(
            names = "--triager",
            defaultValue = "embeddings",
            description =
                    "The local model: embeddings, or rules (a keyword baseline: each label's words"
                            + " and its description's, no examples).")
    String triager;

    @Option(
            names = "--few-shot",
            defaultValue = "0",
            description =
                    "Show this many of the examples per label in the prompt (for a remote LLM;"
                            + " the local model uses all examples anyway).")
    int fewShot;

    @Option(names = "--concurrency", defaultValue = "16")
    int concurrency;

    @Option(names = "--prepare", description = "Pipeline mode, step 1: split and write inputs.")
    boolean prepare;

    @Option(names = "--pipeline", description = "Pipeline mode, step 2: run through Kafka.")
    boolean pipeline;

    @Option(names = "--bootstrap-servers", defaultValue = "localhost:9092")
    String bootstrap;

    @Option(names = "--topic-prefix", defaultValue = "eval")
    String topicPrefix;

    @Option(names = "--timeout-s", defaultValue = "1800")
    long timeoutSeconds;

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(out);
        Map<String, String> setup = new LinkedHashMap<>();
        setup.put("data", data.toString());
        setup.put("text column", textColumn);
        setup.put("label column", labelColumn);
        setup.put(
                "examples",
                examples == null
                        ? "none (local model: the shipped default examples)"
                        : examples + " (" + perClass + " per class)");
        setup.put("seed", Long.toString(seed));
        if (pipeline) {
            return runPipeline(setup);
        }
        EvalSplit.Split split =
                EvalSplit.split(data, textColumn, labelColumn, examples, perClass, seed, limit);
        System.err.printf(
                "%d test tickets, %d labels, %d examples%n",
                split.test().size(), split.labels().size(), split.examples().size());
        if (prepare) {
            prepare(split, setup);
            return 0;
        }
        PromptSettings prompts = EvalRunner.prompts(split.labels(), split.examples(), fewShot);
        setup.put("few-shot examples in the prompt", Integer.toString(prompts.fewShot().size()));
        LocalModelServer server = null;
        try {
            String base = endpoint;
            if (base == null) {
                server = startLocalModel(split, setup);
                base = server.baseUrl();
            } else {
                setup.put("model", model + " at " + base);
            }
            setup.put(
                    "mode",
                    "direct (HTTP, no Kafka or Flink), " + concurrency + " calls at a time");
            LlmSettings settings = EvalRunner.endpoint(base, model, apiKeyEnv);
            long start = System.nanoTime();
            var outcomes = EvalRunner.runDirect(split.test(), prompts, settings, concurrency);
            setup.put("wall time", String.format("%.1f s", (System.nanoTime() - start) / 1e9));
            EvalMetrics m =
                    EvalReport.write(out, "Triage evaluation", setup, split.labels(), outcomes);
            summary(m);
        } finally {
            if (server != null) {
                server.close();
            }
        }
        return 0;
    }

    /** Writes what a pipeline run needs: the examples, the cases and the job's overrides. */
    private void prepare(EvalSplit.Split split, Map<String, String> setup) throws Exception {
        EvalSplit.writeExamples(split.examples(), out.resolve("examples.csv"));
        writeCases(split.test(), out.resolve("cases.csv"));
        List<String> overrides = new ArrayList<>();
        PromptSettings prompts = EvalRunner.prompts(split.labels());
        prompts.categories().forEach((k, v) -> overrides.add("triage.categories." + k + "=" + v));
        overrides.add("triage.system-prompt=" + prompts.systemPrompt());
        if (fewShot > 0) {
            overrides.add("triage.few-shot.file=" + out.resolve("examples.csv").toAbsolutePath());
            overrides.add("triage.few-shot.per-class=" + fewShot);
        }
        Files.write(out.resolve("job-overrides.txt"), overrides, StandardCharsets.UTF_8);
        Files.writeString(out.resolve("setup.txt"), String.join("\n", setupLines(setup)));
    }

    /** The local model server with the chosen triager; says which in {@code setup}. */
    private LocalModelServer startLocalModel(EvalSplit.Split split, Map<String, String> setup)
            throws Exception {
        long t0 = System.nanoTime();
        LocalModelServer.Triager local;
        String what;
        if (triager.equals("rules")) {
            local = RuleBasedTriager::triage;
            what = "local keyword baseline (RuleBasedTriager, no examples)";
        } else {
            EmbeddingTriager embeddings =
                    split.examples().isEmpty()
                            ? EmbeddingTriager.load(null, 20)
                            : EmbeddingTriager.load(split.examples());
            local = embeddings::triage;
            what = "local (all-MiniLM-L6-v2 nearest centroids)";
        }
        LocalModelServer server =
                LocalModelServer.start(
                        new LocalModelServer.Options(
                                "127.0.0.1", 0, model, ProviderProfile.NONE, null, local));
        setup.put("model", what + ", started in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        return server;
    }

    private int runPipeline(Map<String, String> setup) throws Exception {
        List<EvalSplit.Case> cases = readCases(out.resolve("cases.csv"));
        List<String> labels =
                cases.stream().map(EvalSplit.Case::label).distinct().sorted().toList();
        for (String line : Files.readAllLines(out.resolve("setup.txt"))) {
            int colon = line.indexOf(": ");
            if (colon > 0) {
                setup.put(line.substring(0, colon), line.substring(colon + 2));
            }
        }
        setup.put(
                "mode",
                "pipeline: Kafka topic "
                        + topicPrefix
                        + "-tickets, the triage job, read_committed results");
        setup.put("model", endpoint == null ? "local model server" : model + " at " + endpoint);
        long start = System.nanoTime();
        var outcomes =
                EvalRunner.runPipeline(
                        cases,
                        bootstrap,
                        topicPrefix + "-tickets",
                        topicPrefix + "-results",
                        topicPrefix + "-dlq",
                        Duration.ofSeconds(timeoutSeconds));
        setup.put("wall time", String.format("%.1f s", (System.nanoTime() - start) / 1e9));
        setup.put("latency", "ticket latency inside the job (accepted to answered), ms");
        EvalMetrics m = EvalReport.write(out, "Triage evaluation", setup, labels, outcomes);
        summary(m);
        return 0;
    }

    private void summary(EvalMetrics m) {
        System.out.printf(
                "accuracy %.4f, macro-F1 %.4f over %d tickets; report: %s%n",
                m.accuracy(), m.macroF1(), m.total(), out.resolve("report.md"));
    }

    private static List<String> setupLines(Map<String, String> setup) {
        List<String> lines = new ArrayList<>();
        setup.forEach((k, v) -> lines.add(k + ": " + v));
        return lines;
    }

    static void writeCases(List<EvalSplit.Case> cases, Path file) throws Exception {
        CsvSchema schema =
                CsvSchema.builder()
                        .addColumn("id")
                        .addColumn("label")
                        .addColumn("text")
                        .build()
                        .withHeader();
        List<List<String>> rows = new ArrayList<>();
        cases.forEach(c -> rows.add(List.of(c.id(), c.label(), c.text())));
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            new CsvMapper().writer(schema).writeValues(w).writeAll(rows);
        }
    }

    static List<EvalSplit.Case> readCases(Path file) throws Exception {
        List<EvalSplit.Case> cases = new ArrayList<>();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
                MappingIterator<Map<String, String>> it =
                        new CsvMapper()
                                .readerForMapOf(String.class)
                                .with(CsvSchema.emptySchema().withHeader())
                                .readValues(in)) {
            while (it.hasNext()) {
                Map<String, String> r = it.next();
                cases.add(new EvalSplit.Case(r.get("id"), r.get("text"), r.get("label")));
            }
        }
        return cases;
    }
}
