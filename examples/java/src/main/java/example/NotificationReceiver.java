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
import java.util.concurrent.Executors;

/** The partner's notify endpoint (JDK HttpServer): verifies Whalet's signature before any
 * private-key work, decrypts, records the notification (once per requestNo) and answers a signed
 * SUCCESS reply that echoes the notification. Anything that does not verify gets HTTP 400. */
public final class NotificationReceiver implements AutoCloseable {
    /** One received notification. */
    public record Notification(String apiCode, String requestNo, Map<String, Object> body) {}

    private final PrivateKey key;
    private final PublicKey whalet;
    private final HttpServer server;
    private final List<Notification> received = new ArrayList<>();
    private final List<String> rejected = new ArrayList<>();

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

    @SuppressWarnings("unchecked")
    private void handle(HttpExchange ex) throws IOException {
        int status;
        Object answer;
        try {
            String raw = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Map<String, Object> envelope = Json.object(raw);
            Map<String, Object> head = (Map<String, Object>) envelope.get("head");
            String encrypt = (String) ((Map<String, Object>) envelope.get("body")).get("encrypt");
            if (!WhaletCrypto.verify(whalet, WhaletCrypto.requestSignString(head, encrypt), head.get("sign"))) {
                throw new SecurityException("head.sign does not verify with Whalet's public key");
            }
            Map<String, Object> body = Json.object(WhaletCrypto.openBody((String) head.get("keyEnc"), encrypt, key));
            synchronized (this) {
                String requestNo = (String) head.get("requestNo"); // the same on every retry
                if (received.stream().noneMatch(n -> n.requestNo().equals(requestNo))) {
                    received.add(new Notification((String) head.get("apiCode"), requestNo, body));
                }
                notifyAll();
            }
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
            synchronized (this) {
                rejected.add(String.valueOf(e));
            }
            status = 400;
            answer = Map.of("error", "rejected: " + e);
        }
        byte[] out = Json.write(answer).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, out.length);
        ex.getResponseBody().write(out);
        ex.close();
    }

    /** The body of a received `apiCode` whose `field` equals `value`, waiting up to 10 s. */
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

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
