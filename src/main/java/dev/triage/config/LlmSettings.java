package dev.triage.config;

import static dev.triage.config.TriageOptions.*;

import dev.triage.config.EndpointOptions.Auth;
import dev.triage.config.EndpointOptions.StructuredOutput;

import org.apache.flink.configuration.ReadableConfig;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * How to reach one model endpoint: a typed view of the {@code llm.*} (or {@code llm.fallback.*})
 * options. Holds where the API key is, never the key: {@link #resolveApiKey()} reads it on the
 * TaskManager, so it is in no job graph, web UI or log.
 *
 * <p>Over 300 lines because it checks, at submission, everything about reaching one endpoint (URL,
 * auth style, key source, proxy, TLS and plain-http rules, limits) so that a wrong value fails
 * before the job runs, not at the first call.
 */
public record LlmSettings(
        String name,
        String baseUrl,
        String model,
        String apiKeyEnv,
        String apiKeyFile,
        Auth auth,
        String apiVersion,
        StructuredOutput structuredOutput,
        String maxTokensField,
        int requestsPerMinute,
        int tokensPerMinute,
        double temperature,
        int maxOutputTokens,
        Duration requestTimeout,
        Duration connectTimeout,
        double promptPricePerMillion,
        double completionPricePerMillion,
        Proxy proxy)
        implements Serializable {

    /**
     * The HTTP proxy in front of one endpoint ({@code llm.proxy.*}, or {@code
     * llm.fallback.proxy.*}): where it is and where its password is, never the password ({@link
     * #resolvePassword()} reads it on the TaskManager, like the API key).
     *
     * @param host a host name or an IP address (an IPv6 one without brackets)
     * @param username empty: no credentials are sent
     */
    public record Proxy(
            String host, int port, String username, String passwordEnv, String passwordFile)
            implements Serializable {

        /** {@code http://HOST:PORT}, for messages. */
        public String url() {
            return "http://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }

        public boolean hasCredentials() {
            return !username.isEmpty();
        }

        /** The password from its file, else its environment variable; null when neither has one. */
        public String resolvePassword() {
            return resolvePassword(System.getenv());
        }

        public String resolvePassword(Map<String, String> env) {
            return readSecret(passwordFile, passwordEnv, env, "the proxy password file");
        }

        /**
         * The proxy of {@code llm.proxy.*} (or the fallback's), null when its URL is empty; every
         * malformed value fails here, at submission. No message repeats the URL, which may hold a
         * password.
         */
        static Proxy from(EndpointOptions o, ReadableConfig conf) {
            String url = conf.get(o.proxyUrl).strip();
            String username = conf.get(o.proxyUsername).strip();
            String env = conf.get(o.proxyPasswordEnv).strip();
            String file = conf.get(o.proxyPasswordFile).strip();
            String key = o.proxyUrl.key();
            if (url.isEmpty()) {
                if (!username.isEmpty() || !env.isEmpty() || !file.isEmpty()) {
                    throw new IllegalArgumentException(
                            "Proxy credentials are set ("
                                    + o.proxyUsername.key()
                                    + ", "
                                    + o.proxyPasswordFile.key()
                                    + " or "
                                    + o.proxyPasswordEnv.key()
                                    + ") but "
                                    + key
                                    + " is empty.");
                }
                return null;
            }
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException(
                        key + " is not a URL of the form http://HOST:PORT: " + e.getReason());
            }
            if (uri.getRawUserInfo() != null
                    || (uri.getRawAuthority() != null && uri.getRawAuthority().contains("@"))) {
                throw new IllegalArgumentException(
                        key
                                + " must not hold credentials: set "
                                + o.proxyUsername.key()
                                + " and "
                                + o.proxyPasswordFile.key()
                                + " (or "
                                + o.proxyPasswordEnv.key()
                                + ") instead, so that the password is in no setting.");
            }
            if (!"http".equalsIgnoreCase(uri.getScheme())) {
                throw new IllegalArgumentException(
                        key
                                + " must be http://HOST:PORT: the job talks plain HTTP to the proxy"
                                + " (an https:// endpoint still runs TLS end to end, inside the"
                                + " CONNECT tunnel); TLS to the proxy and SOCKS are not supported.");
            }
            if (uri.getHost() == null) {
                throw new IllegalArgumentException(key + " has no host: use http://HOST:PORT.");
            }
            if (uri.getPort() == 0 || uri.getPort() > 65535) {
                throw new IllegalArgumentException(
                        key + " has a port outside 1-65535: use http://HOST:PORT.");
            }
            if (uri.getPort() < 0) {
                throw new IllegalArgumentException(
                        key
                                + " has no port: use http://HOST:PORT (proxies listen on 3128,"
                                + " 8080 and others, so none is assumed).");
            }
            if (uri.getRawPath() != null
                    && !uri.getRawPath().isEmpty()
                    && !uri.getRawPath().equals("/")) {
                throw new IllegalArgumentException(
                        key + " must not have a path: use http://HOST:PORT.");
            }
            if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
                throw new IllegalArgumentException(
                        key + " must not have a query or a fragment: use http://HOST:PORT.");
            }
            if (username.isEmpty() != (env.isEmpty() && file.isEmpty())) {
                throw new IllegalArgumentException(
                        username.isEmpty()
                                ? "A proxy password is named but "
                                        + o.proxyUsername.key()
                                        + " is empty."
                                : o.proxyUsername.key()
                                        + " is set, but neither "
                                        + o.proxyPasswordFile.key()
                                        + " nor "
                                        + o.proxyPasswordEnv.key()
                                        + " says where its password is.");
            }
            if (username.indexOf(':') >= 0) {
                throw new IllegalArgumentException(
                        o.proxyUsername.key()
                                + " must not contain ':' (Basic authentication cannot carry it).");
            }
            String host = uri.getHost();
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            return new Proxy(host, uri.getPort(), username, env, file);
        }
    }

    /** What a reply's tokens cost at this endpoint's prices. */
    public double cost(int promptTokens, int completionTokens) {
        return (promptTokens * promptPricePerMillion + completionTokens * completionPricePerMillion)
                / 1_000_000.0;
    }

    public static LlmSettings primary(ReadableConfig conf) {
        return from("primary", PRIMARY, conf);
    }

    /** The fallback endpoint, or null when {@code llm.fallback.base-url} is empty. */
    public static LlmSettings fallback(ReadableConfig conf) {
        return conf.get(FALLBACK.baseUrl).isBlank() ? null : from("fallback", FALLBACK, conf);
    }

    private static LlmSettings from(String name, EndpointOptions o, ReadableConfig conf) {
        LlmSettings s = fromOptions(name, o, conf);
        if (s.sendsKeyInClearText() && !conf.get(o.keyOverPlainHttp)) {
            boolean viaProxy = s.proxy() != null && !isLoopback(s.proxy().host());
            throw new IllegalArgumentException(
                    "The "
                            + name
                            + " endpoint "
                            + s.baseUrl()
                            + " is plain http:// "
                            + (viaProxy
                                    ? "through the proxy "
                                            + s.proxy().url()
                                            + " ("
                                            + o.proxyUrl.key()
                                            + ")"
                                    : "to another host")
                            + ", and "
                            + o.auth.key()
                            + " is "
                            + s.auth()
                            + ": the API key would cross the network in clear text. Use https://,"
                            + " set "
                            + o.auth.key()
                            + ": NONE for a server without keys, or "
                            + o.keyOverPlainHttp.key()
                            + ": true if the network is trusted.");
        }
        return s;
    }

    /**
     * Whether a key would be sent (auth not NONE, and a key env or file named) over plain HTTP to a
     * host other than loopback: the endpoint's host, or its proxy's, which reads a plain http://
     * request whole.
     */
    public boolean sendsKeyInClearText() {
        boolean keyNamed =
                (apiKeyEnv != null && !apiKeyEnv.isBlank())
                        || (apiKeyFile != null && !apiKeyFile.isBlank());
        if (auth == Auth.NONE || !keyNamed) {
            return false;
        }
        java.net.URI uri;
        try {
            uri = java.net.URI.create(baseUrl.strip());
        } catch (IllegalArgumentException e) {
            return false; // the client refuses it with its own message
        }
        return "http".equalsIgnoreCase(uri.getScheme())
                && (!isLoopback(uri.getHost()) || (proxy != null && !isLoopback(proxy.host())));
    }

    static boolean isLoopback(String host) {
        if (host == null) {
            return false;
        }
        String h = host.toLowerCase(java.util.Locale.ROOT);
        return h.equals("localhost")
                || h.endsWith(".localhost")
                || h.equals("[::1]")
                || h.equals("::1")
                || h.matches("127(\\.\\d{1,3}){3}");
    }

    private static LlmSettings fromOptions(String name, EndpointOptions o, ReadableConfig conf) {
        return new LlmSettings(
                name,
                conf.get(o.baseUrl),
                conf.get(o.model),
                conf.get(o.apiKeyEnv),
                conf.get(o.apiKeyFile),
                conf.get(o.auth),
                conf.get(o.apiVersion),
                conf.get(o.structuredOutput),
                conf.get(o.maxTokensField),
                conf.get(o.requestsPerMinute),
                conf.get(o.tokensPerMinute),
                conf.get(LLM_TEMPERATURE),
                conf.get(LLM_MAX_OUTPUT_TOKENS),
                conf.get(LLM_REQUEST_TIMEOUT),
                conf.get(LLM_CONNECT_TIMEOUT),
                conf.get(o.promptPrice),
                conf.get(o.completionPrice),
                Proxy.from(o, conf));
    }

    /** The API key from the key file, else the environment variable; null when neither has one. */
    public String resolveApiKey() {
        return resolveApiKey(System.getenv());
    }

    String resolveApiKey(Map<String, String> env) {
        return readSecret(
                apiKeyFile, apiKeyEnv, env, "the API key file of the " + name + " endpoint");
    }

    /** A secret from its file, else its environment variable; null when neither has one. */
    private static String readSecret(
            String file, String envName, Map<String, String> env, String what) {
        if (file != null && !file.isBlank()) {
            try {
                String secret = Files.readString(Path.of(file), StandardCharsets.UTF_8).strip();
                return secret.isEmpty() ? null : secret;
            } catch (IOException e) {
                // The message names the file, never its content.
                throw new UncheckedIOException("cannot read " + what + ": " + file, e);
            }
        }
        String secret = envName == null || envName.isBlank() ? null : env.get(envName);
        return secret == null || secret.isBlank() ? null : secret.strip();
    }
}
