package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Only what Whalet signed for this very request is believed: a reply with a body but no
 * head.sign, and a genuine signed reply to another request (replayed), are refused. A proxy
 * between the client and the simulator (SIM_URL, KEYS_DIR) changes the simulator's replies. */
class ForgedReplyTest {
    static final String SIM = System.getenv().getOrDefault("SIM_URL", "http://127.0.0.1:8080");
    static final Path KEYS = Path.of(System.getenv().getOrDefault("KEYS_DIR", "../../keys"));
    static final Map<String, Object> PING = Map.of("notifyFlag", "N", "responseFlag", "Y", "responseMessage", "pong");

    static PrivateKey key;
    static PublicKey whalet;

    @BeforeAll
    static void keys() throws Exception {
        key = WhaletCrypto.privateKey(KEYS.resolve("demo-partner/private.pem"));
        whalet = WhaletCrypto.publicKey(KEYS.resolve("platform/public.pem"));
    }

    /** Forwards each request to {@code SIM/api} and answers the simulator's reply as {@code tamper}
     * changes it; returns the running server. */
    static HttpServer proxy(UnaryOperator<Map<String, Object>> tamper) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            try {
                String request = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                String reply = http.send(HttpRequest.newBuilder(URI.create(SIM.replaceAll("/$", "") + "/api"))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(request, StandardCharsets.UTF_8))
                                .build(),
                        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)).body();
                byte[] out = Json.write(tamper.apply(Json.object(reply))).getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "application/json");
                ex.sendResponseHeaders(200, out.length);
                ex.getResponseBody().write(out);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ex.sendResponseHeaders(502, -1);
            } finally {
                ex.close();
            }
        });
        server.start();
        return server;
    }

    static WhaletClient through(HttpServer proxy) {
        return new WhaletClient("http://127.0.0.1:" + proxy.getAddress().getPort(), "202400000000001", key, whalet);
    }

    @Test
    @SuppressWarnings("unchecked")
    void aReplyWithABodyButNoSignIsRefused() throws Exception {
        HttpServer proxy = proxy(reply -> {
            ((Map<String, Object>) reply.get("head")).remove("sign");
            return reply;
        });
        try {
            SecurityException e = assertThrows(SecurityException.class, () -> through(proxy).call("connectivity", PING));
            assertTrue(e.getMessage().contains("a body but no head.sign"), e.getMessage());
        } finally {
            proxy.stop(0);
        }
    }

    @Test
    void aGenuineReplyToAnotherRequestIsRefused() throws Exception {
        List<Map<String, Object>> replies = new ArrayList<>();
        HttpServer proxy = proxy(reply -> {
            synchronized (replies) {
                replies.add(reply);
                return replies.get(0);
            }
        });
        try {
            WhaletClient client = through(proxy);
            assertEquals("SUCCESS", client.call("connectivity", PING).code());
            SecurityException e = assertThrows(SecurityException.class, () -> client.call("queryCurrencyBalance",
                    Map.of("userId", "U1", "currency", "USD", "fundSource", "B2C")));
            assertTrue(e.getMessage().contains("does not answer this request"), e.getMessage());
        } finally {
            proxy.stop(0);
        }
    }
}
