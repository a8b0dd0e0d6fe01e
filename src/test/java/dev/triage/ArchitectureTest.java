package dev.triage;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

/**
 * The package rules, checked on the compiled main classes: which package may use which, no cycles,
 * and nothing the job runs depends on the local tools (the simulator, the CLI, the bench, the
 * evaluation and the verifier). The picture is in docs/design.md.
 */
class ArchitectureTest {

    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main =
                new ClassFileImporter()
                        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPath(Path.of("target", "classes"));
    }

    @Test
    void everyClassIsInAPackageTheRulesKnow() {
        classes()
                .should()
                .resideInAnyPackage(
                        "dev.triage.io",
                        "dev.triage.metrics",
                        "dev.triage.records",
                        "dev.triage.config",
                        "dev.triage.llm",
                        "dev.triage.prompt",
                        "dev.triage.ingest",
                        "dev.triage.session",
                        "dev.triage.job",
                        "dev.triage.tools.data",
                        "dev.triage.tools.simulator",
                        "dev.triage.tools.verify",
                        "dev.triage.tools.bench",
                        "dev.triage.tools.eval",
                        "dev.triage.tools.cli")
                .check(main);
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching("dev.triage.(**)").should().beFreeOfCycles().check(main);
    }

    @Test
    void eachPackageUsesOnlyTheLayersBelowIt() {
        layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .withOptionalLayers(true)
                .layer("io")
                .definedBy("dev.triage.io..")
                .layer("metrics")
                .definedBy("dev.triage.metrics..")
                .layer("records")
                .definedBy("dev.triage.records..")
                .layer("config")
                .definedBy("dev.triage.config..")
                .layer("llm")
                .definedBy("dev.triage.llm..")
                .layer("prompt")
                .definedBy("dev.triage.prompt..")
                .layer("ingest")
                .definedBy("dev.triage.ingest..")
                .layer("session")
                .definedBy("dev.triage.session..")
                .layer("job")
                .definedBy("dev.triage.job..")
                .layer("data")
                .definedBy("dev.triage.tools.data..")
                .layer("simulator")
                .definedBy("dev.triage.tools.simulator..")
                .layer("verifier")
                .definedBy("dev.triage.tools.verify..")
                .layer("bench")
                .definedBy("dev.triage.tools.bench..")
                .layer("evaluation")
                .definedBy("dev.triage.tools.eval..")
                .layer("cli")
                .definedBy("dev.triage.tools.cli..")
                // the job: each layer may use only those below it
                .whereLayer("io")
                .mayNotAccessAnyLayer()
                .whereLayer("metrics")
                .mayNotAccessAnyLayer()
                .whereLayer("records")
                .mayOnlyAccessLayers("io")
                .whereLayer("config")
                .mayOnlyAccessLayers("io", "records")
                .whereLayer("llm")
                .mayOnlyAccessLayers("io", "records", "config", "metrics")
                .whereLayer("prompt")
                .mayOnlyAccessLayers("io", "records", "config", "llm")
                .whereLayer("ingest")
                .mayOnlyAccessLayers("io", "records", "config", "metrics")
                .whereLayer("session")
                .mayOnlyAccessLayers("io", "records", "config", "metrics", "llm", "prompt")
                .whereLayer("job")
                .mayOnlyAccessLayers(
                        "io", "records", "config", "metrics", "llm", "prompt", "ingest", "session")
                // the tools: each in a package of its own, only the CLI sees them all
                .whereLayer("data")
                .mayOnlyAccessLayers("io", "records")
                .whereLayer("simulator")
                .mayOnlyAccessLayers("io", "records", "config", "llm", "prompt")
                .whereLayer("verifier")
                .mayOnlyAccessLayers("io", "records")
                .whereLayer("bench")
                .mayOnlyAccessLayers(
                        "io",
                        "records",
                        "config",
                        "metrics",
                        "llm",
                        "prompt",
                        "ingest",
                        "session",
                        "job",
                        "simulator",
                        "data")
                .whereLayer("evaluation")
                .mayOnlyAccessLayers(
                        "io", "records", "config", "llm", "prompt", "simulator", "data")
                .whereLayer("cli")
                .mayNotBeAccessedByAnyLayer()
                .check(main);
    }
}
