package dev.triage.tools.simulator;

import io.netty.handler.codec.http.QueryStringDecoder;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The query parameters of the admin endpoints, checked: an unknown name or a bad value is an {@link
 * IllegalArgumentException} (a 400), never silently ignored; a missing one takes its default.
 */
final class AdminParams {

    private final Map<String, List<String>> params;

    private AdminParams(Map<String, List<String>> params) {
        this.params = params;
    }

    /** The query of {@code uri}, which may name only {@code known} parameters. */
    static AdminParams of(String uri, Set<String> known) {
        Map<String, List<String>> params = new QueryStringDecoder(uri).parameters();
        for (String name : params.keySet()) {
            if (!known.contains(name)) {
                throw new IllegalArgumentException(
                        "unknown parameter '" + name + "'; known: " + new TreeSet<>(known));
            }
        }
        return new AdminParams(params);
    }

    /** A whole number from 0 to {@code max}. */
    long whole(String name, long dflt, long max) {
        String value = first(name);
        if (value == null) {
            return dflt;
        }
        long v = parse(name, value, Long::parseLong, "a whole number");
        if (v < 0 || v > max) {
            throw new IllegalArgumentException(
                    "'" + name + "' must be between 0 and " + max + ", not " + v);
        }
        return v;
    }

    /** A share from 0 to 1; missing: 0. */
    double share(String name) {
        String value = first(name);
        if (value == null) {
            return 0;
        }
        double v = parse(name, value, Double::parseDouble, "a share between 0 and 1");
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(
                    "'" + name + "' must be a share between 0 and 1, not " + value);
        }
        return v;
    }

    private static <T> T parse(String name, String value, Function<String, T> parser, String what) {
        try {
            return parser.apply(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "'" + name + "' must be " + what + ", not '" + value + "'");
        }
    }

    private String first(String name) {
        List<String> values = params.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
