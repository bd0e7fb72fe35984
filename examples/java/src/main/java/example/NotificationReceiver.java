package example;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** The partner's notify endpoint (JDK HttpServer): verifies Whalet's signature before any
 * private-key work, decrypts, answers a signed SUCCESS reply that echoes the notification, and only
 * then records it (once per requestNo): a notification {@link #find} returns has been acknowledged,
 * so a test that ends there cannot cut the acknowledgement off. Anything that does not verify gets
 * HTTP 400. */
public final class NotificationReceiver implements AutoCloseable {
    /** One received notification. */
    public record Notification(String apiCode, String requestNo, Map<String, Object> body) {}

    private final PrivateKey key;
    private final PublicKey whalet;
    private final HttpServer server;
    private final List<Notification> received = new ArrayList<>();
    private final List<String> rejected = new ArrayList<>();
    /** Requests being answered right now (guarded by this): {@link #close} lets them finish. */
    private int answering;

    /** Listens on 127.0.0.1:port. */
    public NotificationReceiver(int port, PrivateKey key, PublicKey whalet) throws IOException {
        this("127.0.0.1", port, key, whalet);
    }

    /** Listens on host:port ("0.0.0.0" when the simulator runs in another container). */
    public NotificationReceiver(String host, int port, PrivateKey key, PublicKey whalet) throws IOException {
        this.key = key;
        this.whalet = whalet;
        server = HttpServer.create(new InetSocketAddress(host, port), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        synchronized (this) {
            answering++;
        }
        try {
            respond(ex);
        } finally {
            synchronized (this) {
                answering--;
                notifyAll();
            }
        }
    }

    /** Verifies and answers one request; records it only once the answer is written (a failed write
     * throws and records nothing: Whalet sends the notification again), so whoever find() wakes may
     * close this receiver without cutting an acknowledgement off. */
    @SuppressWarnings("unchecked")
    private void respond(HttpExchange ex) throws IOException {
        int status;
        Object answer;
        Notification verified = null;
        String refusal = null;
        try {
            String raw = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Map<String, Object> envelope = Json.object(raw);
            Map<String, Object> head = (Map<String, Object>) envelope.get("head");
            String encrypt = (String) ((Map<String, Object>) envelope.get("body")).get("encrypt");
            if (!WhaletCrypto.verify(whalet, WhaletCrypto.requestSignString(head, encrypt), head.get("sign"))) {
                throw new SecurityException("head.sign does not verify with Whalet's public key");
            }
            Map<String, Object> body = Json.object(WhaletCrypto.openBody((String) head.get("keyEnc"), encrypt, key));
            // requestNo is the same on every retry of one notification
            verified = new Notification((String) head.get("apiCode"), (String) head.get("requestNo"), body);
            Map<String, Object> ack = new LinkedHashMap<>();
            for (String k : List.of("partnerId", "apiCode", "version", "requestNo")) ack.put(k, head.get(k));
            ack.put("code", "SUCCESS");
            ack.put("detail", "success");
            String[] sealed = WhaletCrypto.sealBody("{}", whalet);
            ack.put("sign", WhaletCrypto.sign(key, WhaletCrypto.replySignString(ack, sealed[0])));
            ack.put("keyEnc", sealed[1]);
            status = 200;
            answer = Map.of("head", ack, "body", Map.of("encrypt", sealed[0]));
        } catch (Exception e) {
            verified = null; // not acknowledged
            refusal = String.valueOf(e);
            status = 400;
            answer = Map.of("error", "rejected: " + e);
        }
        byte[] out = Json.write(answer).getBytes(StandardCharsets.UTF_8);
        try {
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(status, out.length);
            ex.getResponseBody().write(out);
        } finally {
            ex.close(); // flushes the answer to the connection
        }
        synchronized (this) {
            if (verified == null) {
                rejected.add(refusal);
            } else {
                String requestNo = verified.requestNo();
                if (received.stream().noneMatch(n -> n.requestNo().equals(requestNo))) received.add(verified);
            }
        }
    }

    /** The body of a received and acknowledged `apiCode` whose `field` equals `value`, waiting up to 10 s. */
    public synchronized Map<String, Object> find(String apiCode, String field, String value) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (true) {
            for (Notification n : received) {
                if (n.apiCode().equals(apiCode) && value.equals(n.body().get(field))) return n.body();
            }
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) throw new AssertionError("no " + apiCode + " with " + field + "=" + value + ": " + received);
            wait(left);
        }
    }

    public synchronized List<Notification> received() {
        return List.copyOf(received);
    }

    public synchronized List<String> rejected() {
        return List.copyOf(rejected);
    }

    /** Stops gracefully: waits (up to 2 s) for the answers being written to finish, then stops the
     * server. server.stop(0) alone cuts an answer off mid-write, and stop(n) waits the whole n
     * seconds on JDK 17 even when nothing is in progress. */
    @Override
    public void close() {
        synchronized (this) {
            long deadline = System.currentTimeMillis() + 2_000;
            try {
                for (long left = 2_000; answering > 0 && left > 0; left = deadline - System.currentTimeMillis()) {
                    wait(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        server.stop(0);
        ((ExecutorService) server.getExecutor()).shutdown();
    }
}
