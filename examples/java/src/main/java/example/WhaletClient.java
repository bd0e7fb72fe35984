package example;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/** Calls the Whalet Open API (`POST {url}/api`) as a partner: seals, signs, sends, verifies and
 * opens the reply. */
public final class WhaletClient {
    /** A reply: head.code, head.detail, the decrypted body (null without one) and the requestNo of
     * the request it answers (a notification the request causes may name it: connectivityNotify's
     * business object is {@code connectivity:<requestNo>}). */
    public record Reply(String code, String detail, Object body, String requestNo) {}

    private final String url;
    private final String partnerId;
    private final PrivateKey key;
    private final PublicKey whalet;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public WhaletClient(String url, String partnerId, PrivateKey key, PublicKey whalet) {
        this.url = url.replaceAll("/$", "");
        this.partnerId = partnerId;
        this.key = key;
        this.whalet = whalet;
    }

    @SuppressWarnings("unchecked")
    public Reply call(String apiCode, Map<String, Object> body) throws Exception {
        Map<String, Object> head = new LinkedHashMap<>();
        head.put("partnerId", partnerId);
        head.put("apiCode", apiCode);
        head.put("requestNo", UUID.randomUUID().toString().replace("-", "").substring(0, 24)); // at most 30
        head.put("version", "1.0");
        String[] sealed = WhaletCrypto.sealBody(Json.write(body), whalet);
        head.put("sign", WhaletCrypto.sign(key, WhaletCrypto.requestSignString(head, sealed[0])));
        head.put("keyEnc", sealed[1]);
        String request = Json.write(Map.of("head", head, "body", Map.of("encrypt", sealed[0])));
        HttpResponse<String> res = http.send(
                HttpRequest.newBuilder(URI.create(url + "/api"))
                        .timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(request, StandardCharsets.UTF_8))
                        .build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (res.statusCode() != 200) throw new IllegalStateException(apiCode + ": HTTP " + res.statusCode());
        Map<String, Object> reply = Json.object(res.body());
        Map<String, Object> rhead = (Map<String, Object>) reply.get("head");
        Map<String, Object> rbody = (Map<String, Object>) reply.get("body");
        String encrypt = rbody == null ? null : (String) rbody.get("encrypt");
        checkReply(rhead, encrypt, head, whalet);
        Object data = encrypt == null ? null : Json.parse(WhaletCrypto.openBody((String) rhead.get("keyEnc"), encrypt, key));
        return new Reply((String) rhead.get("code"), (String) rhead.get("detail"), data,
                (String) head.get("requestNo"));
    }

    /** Throws unless the reply is Whalet's answer to the request whose head was {@code sent}: a
     * signed reply must verify and echo partnerId, apiCode, requestNo and version (a genuine reply
     * to another request verifies too); an unsigned one can only be a head-only refusal made before
     * the partner was authenticated, echoing the head as far as it was read (docs/WIRE.md). */
    static void checkReply(Map<String, Object> rhead, String encrypt, Map<String, Object> sent, PublicKey whalet) {
        String apiCode = (String) sent.get("apiCode");
        boolean signed = rhead.get("sign") != null;
        if (signed && !WhaletCrypto.verify(whalet, WhaletCrypto.replySignString(rhead, encrypt), rhead.get("sign"))) {
            throw new SecurityException(apiCode + ": the reply's signature does not verify");
        }
        if (!signed && encrypt != null) {
            throw new SecurityException(apiCode
                    + ": the reply has a body but no head.sign: only a head-only refusal may be unsigned");
        }
        Object code = rhead.get("code");
        if (!signed && ("SUCCESS".equals(code) || "PROCESSING".equals(code))) {
            throw new SecurityException(apiCode + ": the reply says " + code
                    + " but has no head.sign: only a refusal may be unsigned");
        }
        for (String field : new String[] {"partnerId", "apiCode", "requestNo", "version"}) {
            Object got = rhead.get(field);
            boolean echoed = (got == null || "".equals(got)) ? !signed : got.equals(sent.get(field));
            if (!echoed) {
                throw new SecurityException(apiCode + ": the reply does not answer this request: its head."
                        + field + " is " + got + ", the request's is " + sent.get(field));
            }
        }
    }
}
