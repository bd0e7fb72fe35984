package example;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The simulator's control plane (`/__sim/`, plain JSON): the manual clock and the wait API. When
 * the simulator has an admin token (`serve --admin-token`, WHALET_SIM_ADMIN_TOKEN), every request
 * here carries it as `Authorization: Bearer <token>`; the provider APIs never get it.
 */
public final class Simulator {
    private final String url;
    private final String authorization;
    private final HttpClient http = HttpClient.newHttpClient();

    /** The admin token is read from WHALET_SIM_ADMIN_TOKEN, as the CLI does (unset or empty: none). */
    public Simulator(String url) {
        this(url, System.getenv("WHALET_SIM_ADMIN_TOKEN"));
    }

    /** {@code adminToken}: the simulator's admin token, or null or empty when it has none. */
    public Simulator(String url, String adminToken) {
        this.url = url.replaceAll("/$", "");
        if (adminToken == null || adminToken.isEmpty()) {
            this.authorization = null;
        } else if (adminToken.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
            this.authorization = "Bearer " + adminToken;
        } else {
            // Never show the value, nor any part of it: it is a secret.
            throw new IllegalArgumentException("the admin token (WHALET_SIM_ADMIN_TOKEN, or the one given to "
                    + "new Simulator; not shown: it is a secret) has other than visible ASCII characters: an "
                    + "admin token has no spaces, tabs or line ends");
        }
    }

    private Map<String, Object> send(HttpRequest.Builder b) throws Exception {
        if (authorization != null) b.header("Authorization", authorization);
        HttpResponse<String> res = http.send(b.timeout(Duration.ofSeconds(130)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (res.statusCode() != 200) throw new IllegalStateException("HTTP " + res.statusCode() + ": " + res.body());
        return Json.object(res.body());
    }

    public Map<String, Object> health() throws Exception {
        return send(HttpRequest.newBuilder(URI.create(url + "/__sim/health")).GET());
    }

    /** Moves the manual clock; every timer that falls due runs, notification deliveries included. */
    public void advance(int seconds) throws Exception {
        send(HttpRequest.newBuilder(URI.create(url + "/__sim/clock/advance"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"seconds\":" + seconds + "}")));
    }

    /** Blocks until a matching notification is delivered, exhausted or suppressed; returns it. */
    public Map<String, Object> waitNotification(Map<String, String> filter) throws Exception {
        String q = filter.entrySet().stream()
                .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return send(HttpRequest.newBuilder(URI.create(url + "/__sim/notifications/wait?" + q + "&timeoutMs=10000")).GET());
    }
}
