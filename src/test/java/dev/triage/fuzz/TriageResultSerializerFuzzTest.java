package dev.triage.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;
import dev.triage.records.TriageResult;
import dev.triage.records.TriageResultSerializer;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Any result, texts of any size and content and times of any century (see {@link FuzzInputs} for
 * the input format; texts: ticket, session, customer, category, priority, sentiment, summary, draft
 * reply, model; then created_at and the stream timestamp): never throws, always fits.
 */
class TriageResultSerializerFuzzTest {

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) throws Exception {
        FuzzInputs in = new FuzzInputs(data);
        TriageResult r =
                new TriageResult(
                        in.text(0),
                        in.text(1),
                        in.text(2),
                        (int) in.number(9),
                        in.text(3),
                        in.text(4),
                        in.text(5),
                        in.text(6),
                        in.text(7),
                        in.number(10) / 1000.0,
                        in.text(8),
                        1,
                        1,
                        1,
                        in.number(11),
                        in.number(12),
                        in.number(13),
                        false);
        var record =
                new TriageResultSerializer("results", in.maxRecordBytes)
                        .serialize(r, null, in.number(14));

        FuzzInputs.assertFits(record, in.maxRecordBytes);
        var json = Json.MAPPER.readTree(record.value());
        assertThat(json.get("turn").asInt()).isEqualTo(r.turn());
        if (!json.has("truncated")) {
            assertThat(json.get("summary").isNull() ? null : json.get("summary").asText())
                    .isEqualTo(r.summary() == null ? null : wellFormed(r.summary()));
        }
    }

    /** What a text becomes in UTF-8 JSON: a lone surrogate is written as '?'. */
    static String wellFormed(String s) {
        return new String(
                s.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                java.nio.charset.StandardCharsets.UTF_8);
    }
}
