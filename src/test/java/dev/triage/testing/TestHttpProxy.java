package dev.triage.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A tiny HTTP proxy on a random loopback port, as a corporate egress proxy behaves: {@code CONNECT
 * host:port} opens a tunnel ({@code 200 Connection established}, then bytes both ways), a request
 * with an absolute URI is forwarded to its origin (without the {@code Proxy-Authorization} header,
 * as real proxies do), and with credentials set every request without the matching Basic {@code
 * Proxy-Authorization} gets a {@code 407}. It records every request head it read and every byte a
 * client sent it, tunnels included, so that a test can check what a proxy can see.
 */
public final class TestHttpProxy implements AutoCloseable {

    /** One request head the proxy read: its request line and its header lines. */
    public record Seen(String requestLine, List<String> headers) {
        public String method() {
            return requestLine.split(" ", 2)[0];
        }

        public String target() {
            String[] parts = requestLine.split(" ");
            return parts.length > 1 ? parts[1] : "";
        }

        /** The value of the first header of that name, or null. */
        public String header(String name) {
            for (String h : headers) {
                int colon = h.indexOf(':');
                if (colon > 0 && h.substring(0, colon).strip().equalsIgnoreCase(name)) {
                    return h.substring(colon + 1).strip();
                }
            }
            return null;
        }
    }

    private final ServerSocket server;
    private final String expectedAuthorization;
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final ByteArrayOutputStream fromClients = new ByteArrayOutputStream();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile int refused;

    private TestHttpProxy(String user, String password) throws IOException {
        this.expectedAuthorization =
                user == null
                        ? null
                        : "Basic "
                                + Base64.getEncoder()
                                        .encodeToString(
                                                (user + ":" + password)
                                                        .getBytes(StandardCharsets.UTF_8));
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::acceptLoop, "test-proxy-accept");
        accept.setDaemon(true);
        accept.start();
    }

    /** A proxy that lets everyone through. */
    public static TestHttpProxy open() throws IOException {
        return new TestHttpProxy(null, null);
    }

    /** A proxy that answers 407 to every request without these Basic credentials. */
    public static TestHttpProxy requiringBasic(String user, String password) throws IOException {
        return new TestHttpProxy(user, password);
    }

    /** {@code http://127.0.0.1:PORT}: what {@code llm.proxy.url} is set to. */
    public String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** Every request head read, in order (a CONNECT, an absolute-URI request, a refused one). */
    public List<Seen> seen() {
        return List.copyOf(seen);
    }

    /** How many requests were answered 407. */
    public int refused() {
        return refused;
    }

    /** Every byte clients sent to the proxy so far, request heads and tunnelled bytes alike. */
    public byte[] bytesFromClients() {
        synchronized (fromClients) {
            return fromClients.toByteArray();
        }
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                Thread t = new Thread(() -> serve(client), "test-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                record(head.getBytes(StandardCharsets.ISO_8859_1));
                String[] lines = head.split("\r\n");
                List<String> headers = new ArrayList<>(List.of(lines).subList(1, lines.length));
                Seen request = new Seen(lines[0], headers);
                seen.add(request);
                if (expectedAuthorization != null
                        && !expectedAuthorization.equals(request.header("Proxy-Authorization"))) {
                    refused++;
                    skipBody(in, request);
                    out.write(
                            ("HTTP/1.1 407 Proxy Authentication Required\r\n"
                                            + "Proxy-Authenticate: Basic realm=\"test-proxy\"\r\n"
                                            + "Content-Length: 0\r\n\r\n")
                                    .getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                    continue; // a client may send its credentials on the same connection
                }
                if (request.method().equals("CONNECT")) {
                    tunnel(client, in, out, request.target());
                } else {
                    forward(in, out, request);
                }
                return;
            }
        } catch (IOException e) {
            // the client or the origin went away: nothing to report
        }
    }

    private void tunnel(Socket client, InputStream in, OutputStream out, String hostPort)
            throws IOException {
        int colon = hostPort.lastIndexOf(':');
        try (Socket origin =
                new Socket(
                        hostPort.substring(0, colon),
                        Integer.parseInt(hostPort.substring(colon + 1)))) {
            sockets.add(origin);
            out.write(
                    "HTTP/1.1 200 Connection established\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            Thread back = pipe(origin.getInputStream(), out, false);
            pump(in, origin.getOutputStream(), true);
            origin.shutdownOutput();
            join(back);
        }
    }

    /**
     * An absolute-URI request: sent on to its origin in origin form, one request per connection.
     */
    private void forward(InputStream in, OutputStream out, Seen request) throws IOException {
        URI uri = URI.create(request.target());
        StringBuilder head = new StringBuilder();
        String path =
                uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        head.append(request.method())
                .append(' ')
                .append(path)
                .append(' ')
                .append(request.requestLine().substring(request.requestLine().lastIndexOf(' ') + 1))
                .append("\r\n");
        for (String h : request.headers()) {
            String name =
                    h.substring(0, Math.max(0, h.indexOf(':'))).strip().toLowerCase(Locale.ROOT);
            if (!name.equals("proxy-authorization")
                    && !name.equals("proxy-connection")
                    && !name.equals("connection")) {
                head.append(h).append("\r\n");
            }
        }
        head.append("Connection: close\r\n\r\n");
        int port = uri.getPort() < 0 ? 80 : uri.getPort();
        try (Socket origin = new Socket(uri.getHost(), port)) {
            sockets.add(origin);
            OutputStream toOrigin = origin.getOutputStream();
            toOrigin.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            String length = request.header("Content-Length");
            if (length != null) {
                byte[] body = in.readNBytes(Integer.parseInt(length));
                record(body);
                toOrigin.write(body);
            }
            toOrigin.flush();
            origin.getInputStream().transferTo(out);
            out.flush();
        }
    }

    private Thread pipe(InputStream from, OutputStream to, boolean recorded) {
        Thread t =
                new Thread(
                        () -> {
                            try {
                                pump(from, to, recorded);
                            } catch (IOException e) {
                                // closed
                            }
                        },
                        "test-proxy-pipe");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void pump(InputStream from, OutputStream to, boolean recorded) throws IOException {
        byte[] buf = new byte[8192];
        int n;
        while ((n = from.read(buf)) >= 0) {
            if (recorded) {
                synchronized (fromClients) {
                    fromClients.write(buf, 0, n);
                }
            }
            to.write(buf, 0, n);
            to.flush();
        }
    }

    private void record(byte[] bytes) {
        synchronized (fromClients) {
            fromClients.writeBytes(bytes);
        }
    }

    private static void skipBody(InputStream in, Seen request) throws IOException {
        String length = request.header("Content-Length");
        if (length != null) {
            in.readNBytes(Integer.parseInt(length));
        }
    }

    /** The head up to the blank line, without it; null at the end of the stream. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.append((char) b);
            if (head.length() > 64 * 1024) {
                throw new IOException("request head too long");
            }
        }
        return head.substring(0, head.length() - 4);
    }

    private static void join(Thread t) {
        try {
            t.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
