package dev.triage.records;

import static org.assertj.core.api.Assertions.assertThat;

import dev.triage.io.Json;
import dev.triage.session.SessionTriageOperatorTestAccess;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** Records and state types use Flink's POJO serializer (evolvable), never the Kryo fallback. */
class RecordTypesTest {

    static final Ticket TICKET =
            new Ticket("T-1", "S-1", null, "email", "Subj", "Body ü", 123L, "tickets", 3, 42L);

    @Test
    void wireRecordsRoundTripThroughFlinksPojoSerializer() throws Exception {
        assertRoundTrip(Ticket.class, TICKET);
        assertRoundTrip(
                TriageResult.class,
                new TriageResult(
                        "T-1",
                        "S-1",
                        null,
                        2,
                        "billing",
                        "high",
                        "negative",
                        "s",
                        "r",
                        0.5,
                        "m",
                        1,
                        10,
                        5,
                        1L,
                        2L,
                        3L,
                        true));
        assertRoundTrip(
                DeadLetter.class,
                new DeadLetter(
                        "invalid_json", "d", null, null, "tickets", 0, 7L, "x", "text", null, 9L));
        assertRoundTrip(
                RawTicket.class, new RawTicket("tickets", 1, 2L, 3L, new byte[] {1, 2}), false);
    }

    @Test
    void stateTypesRoundTripThroughFlinksPojoSerializer() throws Exception {
        for (var sample : SessionTriageOperatorTestAccess.stateSamples(TICKET)) {
            assertRoundTrip(sample.getClass(), sample);
        }
    }

    @Test
    void resultJsonHasEveryContractField() throws Exception {
        var json =
                Json.MAPPER.readTree(
                        TriageResultSerializer.toJson(
                                new TriageResult(
                                        "T-1",
                                        "S-1",
                                        "C-1",
                                        2,
                                        "billing",
                                        "high",
                                        "negative",
                                        "s",
                                        "r",
                                        0.5,
                                        "m",
                                        1,
                                        10,
                                        5,
                                        0L,
                                        1000L,
                                        3L,
                                        false)));
        assertThat(json.fieldNames())
                .toIterable()
                .containsExactlyInAnyOrder(
                        "ticket_id",
                        "session_id",
                        "customer_id",
                        "turn",
                        "category",
                        "priority",
                        "sentiment",
                        "summary",
                        "draft_reply",
                        "confidence",
                        "model",
                        "attempts",
                        "usage",
                        "created_at",
                        "triaged_at",
                        "cached",
                        "latency_ms",
                        "draft_reply_flags");
        assertThat(json.get("draft_reply_flags").isArray()).isTrue();
        assertThat(json.at("/usage/prompt_tokens").asInt()).isEqualTo(10);
        assertThat(json.get("triaged_at").asText()).isEqualTo("1970-01-01T00:00:01Z");
    }

    @Test
    void aResultCarriesItsDraftReplyFlagsThroughFlinkAndIntoTheJson() throws Exception {
        TriageResult flagged =
                new TriageResult(
                        "T-1",
                        "S-1",
                        null,
                        1,
                        "billing",
                        "high",
                        "negative",
                        "s",
                        "<b>Pay</b> at https://evil.example",
                        0.5,
                        "m",
                        1,
                        10,
                        5,
                        1L,
                        2L,
                        3L,
                        false,
                        List.of("html", "links"),
                        "acme");
        assertRoundTrip(TriageResult.class, flagged);
        var json = Json.MAPPER.readTree(TriageResultSerializer.toJson(flagged));
        assertThat(json.get("draft_reply_flags").toString()).isEqualTo("[\"html\",\"links\"]");
        assertThat(json.get("tenant_id").asText()).isEqualTo("acme");
        // Without flags given, they are computed from the reply alone.
        TriageResult computed =
                new TriageResult(
                        "T-1",
                        "S-1",
                        null,
                        1,
                        "billing",
                        "high",
                        "negative",
                        "s",
                        "<b>Pay</b> at https://evil.example",
                        0.5,
                        "m",
                        1,
                        10,
                        5,
                        1L,
                        2L,
                        3L,
                        false);
        assertThat(computed.draftReplyFlags()).containsExactly("html", "links");
    }

    @Test
    void customerRecordsRoundTripWithoutKryo() throws Exception {
        CustomerProfile profile = new CustomerProfile("C-1", "Ada", "gold", "pro", "en");
        PastTicket past = new PastTicket("T-0", "S-0", "billing", "high", "negative", 7L);
        assertRoundTrip(CustomerProfile.class, profile);
        assertRoundTrip(CustomerEvent.class, CustomerEvent.outcome("C-1", past));
        assertRoundTrip(CustomerEvent.class, CustomerEvent.profile(profile));
        assertRoundTrip(
                Ticket.class,
                TICKET.withCustomer(new CustomerContext(profile, List.of(past, past))));
    }

    @Test
    void deadLetterJsonCarriesReasonSourceAndPayload() throws Exception {
        var json =
                Json.MAPPER.readTree(
                        DeadLetterSerializer.toJson(
                                DeadLetter.ofTicket(
                                        DeadLetter.Reason.LLM_INVALID_OUTPUT,
                                        "bad",
                                        TICKET,
                                        "{oops",
                                        5L)));
        assertThat(json.get("reason").asText()).isEqualTo("llm_invalid_output");
        assertThat(json.at("/source/partition").asInt()).isEqualTo(3);
        assertThat(json.at("/source/offset").asLong()).isEqualTo(42L);
        assertThat(Json.MAPPER.readTree(json.get("payload").asText()).get("body").asText())
                .isEqualTo("Body ü");
        assertThat(json.get("llm_output").asText()).isEqualTo("{oops");
    }

    private static <T> void assertRoundTrip(Class<T> type, Object value) throws Exception {
        assertRoundTrip(type, value, true);
    }

    @SuppressWarnings("unchecked")
    private static <T> void assertRoundTrip(Class<T> type, Object value, boolean compareEquals)
            throws Exception {
        TypeInformation<T> info = TypeInformation.of(type);
        assertThat(info).as(type.getSimpleName()).isInstanceOf(PojoTypeInfo.class);
        var config = new SerializerConfigImpl();
        config.setGenericTypes(false);
        TypeSerializer<T> serializer = info.createSerializer(config);
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize((T) value, out);
        T copy = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        if (compareEquals) {
            assertThat(copy).isEqualTo(value);
        } else {
            assertThat(copy).usingRecursiveComparison().isEqualTo(value);
        }
    }

    /**
     * The bytes of a result are part of the contract (consumers diff them, signatures cover them):
     * field order, escapes, nulls, a lone surrogate as '?', and a cut result.
     */
    @Test
    void resultJsonBytesAreExactlyTheContracts() {
        TriageResult r =
                new TriageResult(
                        "T-\"1\"",
                        "S-1",
                        null,
                        3,
                        "billing",
                        "high",
                        "negative",
                        "caf\u00e9 \ud83d\ude00 \ud800 </script> \\ \u0001\u2028",
                        null,
                        0.875,
                        "m",
                        2,
                        10,
                        5,
                        1_700_000_000_123L,
                        1_700_000_001_000L,
                        877L,
                        true,
                        List.of("html", "links"),
                        "acme");
        assertThat(new String(TriageResultSerializer.toBytes(r, 1 << 20), StandardCharsets.UTF_8))
                .isEqualTo(
                        "{\"tenant_id\":\"acme\",\"ticket_id\":\"T-\\\"1\\\"\",\"session_id\":\"S-1\","
                                + "\"customer_id\":null,\"turn\":3,\"category\":\"billing\","
                                + "\"priority\":\"high\",\"sentiment\":\"negative\","
                                + "\"summary\":\"caf\u00e9 \ud83d\ude00 ? </script> \\\\ \\u0001\u2028\","
                                + "\"draft_reply\":null,\"confidence\":0.875,\"model\":\"m\","
                                + "\"attempts\":2,\"usage\":{\"prompt_tokens\":10,"
                                + "\"completion_tokens\":5},"
                                + "\"created_at\":\"2023-11-14T22:13:20.123Z\","
                                + "\"triaged_at\":\"2023-11-14T22:13:21Z\",\"latency_ms\":877,"
                                + "\"cached\":true,\"draft_reply_flags\":[\"html\",\"links\"]}");
        TriageResult long_ =
                new TriageResult(
                        "T-2",
                        "S-2",
                        "C-2",
                        1,
                        "billing",
                        "low",
                        "neutral",
                        "x".repeat(5_000),
                        "y".repeat(5_000),
                        0.5,
                        "m",
                        1,
                        1,
                        1,
                        0L,
                        0L,
                        0L,
                        false,
                        List.of(),
                        null);
        String cut =
                new String(TriageResultSerializer.toBytes(long_, 1_000), StandardCharsets.UTF_8);
        assertThat(cut.length()).isLessThanOrEqualTo(1_000);
        assertThat(cut)
                .startsWith(
                        "{\"ticket_id\":\"T-2\",\"session_id\":\"S-2\",\"customer_id\":\"C-2\",")
                .endsWith(",\"cached\":false,\"draft_reply_flags\":[],\"truncated\":true}");
    }
}
