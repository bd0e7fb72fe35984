package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Onboarding → card holder → collection account → money arrives → balance, against a running
 * whalet-sim on the manual clock (SIM_URL, NOTIFY_PORT, NOTIFY_HOST, KEYS_DIR; see README.md).
 * Every notification goes to our NotificationReceiver, which verifies, decrypts and acknowledges
 * it; each test checks that the simulator recorded the acknowledgement (delivered). */
class CollectionFlowTest {
    static final String SIM = System.getenv().getOrDefault("SIM_URL", "http://127.0.0.1:8080");
    static final int NOTIFY_PORT = Integer.parseInt(System.getenv().getOrDefault("NOTIFY_PORT", "9090"));
    /** 0.0.0.0 when the simulator runs in a container and reaches this test through the host's or
     * the job container's network address: a receiver on loopback is unreachable from there. */
    static final String NOTIFY_HOST = System.getenv().getOrDefault("NOTIFY_HOST", "127.0.0.1");
    static final Path KEYS = Path.of(System.getenv().getOrDefault("KEYS_DIR", "../../keys"));

    static Simulator sim;
    static WhaletClient client;
    static NotificationReceiver receiver;
    final String tag = UUID.randomUUID().toString().substring(0, 8);

    @BeforeAll
    static void start() throws Exception {
        PrivateKey key = WhaletCrypto.privateKey(KEYS.resolve("demo-partner/private.pem"));
        PublicKey whalet = WhaletCrypto.publicKey(KEYS.resolve("platform/public.pem"));
        sim = new Simulator(SIM);
        assertEquals("ok", sim.health().get("status"));
        client = new WhaletClient(SIM, "202400000000001", key, whalet);
        receiver = new NotificationReceiver(NOTIFY_HOST, NOTIFY_PORT, key, whalet);
    }

    @AfterAll
    static void stop() {
        if (receiver != null) receiver.close();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> expect(String apiCode, Map<String, Object> body, String code) throws Exception {
        WhaletClient.Reply r = client.call(apiCode, body);
        assertEquals(code, r.code(), apiCode + ": " + r.detail());
        return r.body() instanceof Map ? (Map<String, Object>) r.body() : Map.of("rows", r.body());
    }

    static void delivered(String apiCode, String businessId) throws Exception {
        Map<String, Object> n = sim.waitNotification(Map.of("apiCode", apiCode, "businessId", businessId));
        assertEquals("delivered", n.get("status"), String.valueOf(n));
    }

    /** Received and verified is not enough: the test ends only once the simulator has recorded our
     * signed acknowledgement as delivered (an ack that never arrives is a failed attempt: the
     * notification is retried, then exhausted). */
    @Test
    void connectivityNotificationIsVerifiedAndAcknowledged() throws Exception {
        WhaletClient.Reply r = client.call("connectivity", Map.of("notifyFlag", "Y", "notifyMessage", "hello " + tag,
                "responseFlag", "Y", "responseMessage", "pong"));
        assertEquals("SUCCESS", r.code(), "connectivity: " + r.detail());
        assertNotNull(receiver.find("connectivityNotify", "notifyMessage", "hello " + tag));
        delivered("connectivityNotify", "connectivity:" + r.requestNo()); // its business object (docs/FIDELITY.md)
    }

    @Test
    @SuppressWarnings("unchecked")
    void onboardingToAccountToCollectionToBalance() throws Exception {
        String userId = (String) expect("userOnboardingApply", Map.of(
                "outUserId", "java-" + tag, "email", "ops@example.com",
                "legalEntity", Map.of("type", "ENTERPRISE", "name", "Example Trading", "certType", "BUSINESS_LICENSE",
                        "certNo", "91350200MA2Y000000", "countryCode", "CN")), "PROCESSING").get("userId");
        sim.advance(60); // the onboarding review
        delivered("userOnboardingResultNotify", userId);
        assertEquals("SUCCESS", receiver.find("userOnboardingResultNotify", "userId", userId).get("status"));

        String holderId = (String) expect("cardHolderApply", Map.of(
                "userId", userId, "outHolderId", "java-h-" + tag, "holderType", "ENTERPRISE",
                "name", "Xiamen Example Trading Co., Ltd.", "countryCode", "CN",
                "certType", "BUSINESS_LICENSE", "certNo", "91350200MA2Y000000"), "PROCESSING").get("holderId");
        sim.advance(30);
        delivered("cardHolderResultNotify", holderId);
        assertEquals("SUCCESS", receiver.find("cardHolderResultNotify", "holderId", holderId).get("status"));

        String cardId = (String) expect("b2cVirtualAccountApply", Map.of("userId", userId, "outCardId", "java-c-" + tag,
                "holderId", holderId, "platform", "AMAZON", "currency", "USD"), "PROCESSING").get("cardId");
        sim.advance(10);
        delivered("virtualAccountNotify", cardId);
        Map<String, Object> account = receiver.find("virtualAccountNotify", "cardId", cardId);
        assertEquals("SUCCESS", account.get("status"));
        assertTrue(!((String) account.get("accountNo")).isEmpty());

        Map<String, Object> arrived = expect("mockPayeeNotify", Map.of("userId", userId, "cardId", cardId,
                "amount", "1234.56", "currency", "USD", "payerName", "Amazon Payments, Inc."), "SUCCESS");
        assertEquals("PENDING", arrived.get("status"));
        String tradeId = (String) arrived.get("tradeId");
        sim.advance(5); // money settles
        delivered("collectionReceivedNotify", tradeId);
        Map<String, Object> collected = receiver.find("collectionReceivedNotify", "tradeId", tradeId);
        assertEquals(new BigDecimal("123456"), ((Map<String, Object>) collected.get("amount")).get("cent"));

        List<Object> rows = (List<Object>) expect("queryCurrencyBalance",
                Map.of("userId", userId, "currency", "USD", "fundSource", "B2C"), "SUCCESS").get("rows");
        Map<String, Object> balance = (Map<String, Object>) ((Map<String, Object>) rows.get(0)).get("balance");
        assertEquals(new BigDecimal("123456"), balance.get("cent"));
        assertEquals(List.of(), receiver.rejected());
    }
}
